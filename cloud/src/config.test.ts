import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloudEnv, cloudOptionsFromEnv, readSecretFiles } from './config.js';

const dev = { NODE_ENV: 'development' };
const prod = { WEBHOOK_SECRET: 'a-long-enough-secret' };

describe('cloud configuration', () => {
  it('reads a setting from NAME_FILE (Compose secrets), and refuses NAME with NAME_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tusafishe-secrets-'));
    try {
      writeFileSync(join(dir, 'webhook'), 'a-webhook-secret-from-a-file\n');
      const env = readSecretFiles({ NODE_ENV: 'production', WEBHOOK_SECRET_FILE: join(dir, 'webhook') });
      expect(cloudOptionsFromEnv(CloudEnv.parse(env)).webhookSecret).toBe('a-webhook-secret-from-a-file');
      expect(() => readSecretFiles({ WEBHOOK_SECRET: 'x', WEBHOOK_SECRET_FILE: join(dir, 'webhook') })).toThrow(
        /WEBHOOK_SECRET or WEBHOOK_SECRET_FILE/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is production unless asked: no configuration at all is refused for want of a webhook secret', () => {
    expect(CloudEnv.safeParse({}).error?.issues.map((issue) => issue.path[0])).toEqual(['WEBHOOK_SECRET']);
    const options = cloudOptionsFromEnv(CloudEnv.parse(prod));
    expect(options.simulators).toBeUndefined();
    expect(options.devSmsOutbox).toBe(false);
    expect(options.trustedProxies).toBeUndefined();
  });

  it('in development runs on PGlite with simulators and the development SMS outbox', () => {
    const options = cloudOptionsFromEnv(CloudEnv.parse(dev));
    expect(options).toMatchObject({ dataDir: './data', port: 3000, simulators: { mtnPort: 3101, airtelPort: 3102 } });
    expect(options).toMatchObject({ devSmsOutbox: true });
    expect(options.sms).toBeUndefined();
    expect(options.webhookSecret).toBeUndefined();
    expect(options.usageTimeZone).toBe('Africa/Nairobi');
  });

  it('believes X-Forwarded-For only from the proxies configured', () => {
    expect(
      cloudOptionsFromEnv(CloudEnv.parse({ ...prod, TRUST_PROXY: '10.0.0.5, 10.1.0.0/16' })).trustedProxies,
    ).toEqual(['10.0.0.5', '10.1.0.0/16']);
    expect(CloudEnv.safeParse({ ...prod, TRUST_PROXY: 'true' }).error?.issues[0]?.path).toEqual(['TRUST_PROXY']);
  });

  it('publishes changes to long-polling kiosks every CHANGE_FEED_LINGER_MS, 500 ms unless set', () => {
    expect(cloudOptionsFromEnv(CloudEnv.parse(prod)).changeFeed).toEqual({ lingerMs: 500 });
    expect(cloudOptionsFromEnv(CloudEnv.parse({ ...prod, CHANGE_FEED_LINGER_MS: '200' })).changeFeed).toEqual({
      lingerMs: 200,
    });
    expect(CloudEnv.safeParse({ ...prod, CHANGE_FEED_LINGER_MS: '-1' }).error?.issues[0]?.path).toEqual([
      'CHANGE_FEED_LINGER_MS',
    ]);
  });

  it('refuses a usage time zone that does not exist', () => {
    expect(CloudEnv.safeParse({ ...dev, USAGE_TIMEZONE: 'Africa/Atlantis' }).error?.issues[0]?.path).toEqual([
      'USAGE_TIMEZONE',
    ]);
    expect(cloudOptionsFromEnv(CloudEnv.parse({ ...dev, USAGE_TIMEZONE: 'Africa/Kampala' })).usageTimeZone).toBe(
      'Africa/Kampala',
    );
  });

  it('refuses to start in production without a webhook secret', () => {
    const result = CloudEnv.safeParse({ NODE_ENV: 'production' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path[0])).toContain('WEBHOOK_SECRET');
    expect(CloudEnv.safeParse({ NODE_ENV: 'production', WEBHOOK_SECRET: 'a-long-enough-secret' }).success).toBe(true);
  });

  it('seeds demo data only when asked, and refuses to in production', () => {
    expect(CloudEnv.parse(dev).DEMO_SEED).toBe('off');
    const result = CloudEnv.safeParse({
      NODE_ENV: 'production',
      WEBHOOK_SECRET: 'a-long-enough-secret',
      DEMO_SEED: 'on',
    });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['DEMO_SEED'], message: 'demo data cannot be seeded in production' }),
    ]);
  });

  it('copies SMS texts out (DEV_SMS_FD) only from the development adapter, never in production', () => {
    expect(CloudEnv.parse({ ...dev, DEV_SMS_FD: '3' }).DEV_SMS_FD).toBe(3);
    const production = CloudEnv.safeParse({ ...prod, DEV_SMS_FD: '3' });
    expect(production.error?.issues).toEqual([
      expect.objectContaining({ path: ['DEV_SMS_FD'], message: 'SMS texts are never copied out in production' }),
    ]);
    const africasTalking = CloudEnv.safeParse({ ...dev, AT_USERNAME: 'sandbox', AT_API_KEY: 'k', DEV_SMS_FD: '3' });
    expect(africasTalking.error?.issues.map((issue) => issue.path[0])).toEqual(['DEV_SMS_FD']);
    expect(CloudEnv.safeParse({ ...dev, DEV_SMS_FD: '1' }).success).toBe(false);
  });

  it('uses real providers when their credentials are complete, and names the missing one otherwise', () => {
    const env = {
      ...prod,
      DATABASE_URL: 'postgres://u:p@db/tusafishe',
      MTN_BASE_URL: 'https://proxy.momoapi.mtn.com',
      MTN_SUBSCRIPTION_KEY: 'k',
      MTN_API_USER: 'u',
      MTN_API_KEY: 'a',
      MTN_TARGET_ENVIRONMENT: 'mtnuganda',
    };
    const options = cloudOptionsFromEnv(CloudEnv.parse(env));
    expect(options.databaseUrl).toBe(env.DATABASE_URL);
    expect(options.providers?.mtn).toMatchObject({ targetEnvironment: 'mtnuganda' });
    expect(options.simulators).toBeUndefined();
    const partial = CloudEnv.safeParse({
      ...prod,
      AIRTEL_BASE_URL: 'https://openapi.airtel.africa',
      AIRTEL_CLIENT_ID: 'x',
    });
    expect(partial.error?.issues[0]?.path).toEqual(['AIRTEL_CLIENT_SECRET']);
  });
});
