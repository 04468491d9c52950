/**
 * The cloud under test, in its own process so its CPU and RSS are its own: the production
 * `startCloud` on the PostgreSQL server, logging as in production (JSON at LOG_LEVEL or info on
 * stdout, which the bench writes to a file), MTN MoMo at the simulator the driver runs (the
 * provider is outside the cloud, as in the field), status polling off (callbacks confirm).
 */
import { startCloud } from '@tusafishe/cloud';
import { MTN_SIMULATOR_CREDENTIALS } from '@tusafishe/cloud/mtn-simulator';

export interface CloudReady {
  cloudUrl: string;
}

export async function runCloudProcess(): Promise<void> {
  const env = process.env;
  const cloud = await startCloud({
    databaseUrl: env['BENCH_CLOUD_DATABASE_URL']!,
    databaseSchema: env['BENCH_SCHEMA']!,
    databasePoolSize: Number(env['BENCH_CLOUD_POOL'] ?? 10),
    port: 0,
    ...(env['BENCH_PUBLIC_URL'] ? { publicUrl: env['BENCH_PUBLIC_URL'] } : {}),
    providers: {
      statusPollIntervalMs: 0,
      mtn: {
        baseUrl: env['BENCH_MTN_URL']!,
        targetEnvironment: 'mtnuganda',
        currency: 'UGX',
        ...MTN_SIMULATOR_CREDENTIALS,
      },
    },
    // The fleet shares one loopback address: per-address limits would throttle the whole fleet.
    rateLimits: {
      requestsPerKioskPerMinute: 1e6,
      requestsPerPhonePerMinute: 1e6,
      callbacksPerMinute: 1e6,
      requestsPerAddressPerMinute: 1e9,
    },
  });
  process.send?.({ cloudUrl: cloud.url } satisfies CloudReady);
  const stop = (): void => void cloud.close().finally(() => process.exit(0));
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);
}
