import type { PullResponse } from '@tusafishe/protocol';
import { SYNC_PATHS } from '@tusafishe/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { ChangeFeed } from '../src/kiosk-api/change-feed.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { MTN_SIMULATOR_CREDENTIALS, startMtnMomoSimulator } from '../src/payments/simulators/mtn-momo-simulator.js';
import type { RunningSimulator } from '../src/payments/simulators/simulated-payments.js';
import { dial } from './africas-talking.js';
import { backends } from './backends.js';
import { haproxyInstalled, loadBalancer, type RunningLoadBalancer } from './load-balancer.js';

const server = backends().find((backend) => backend.name === 'postgres');
const haproxy = haproxyInstalled();
// CI installs HAProxy (.ci/run): there, a missing binary is a failure, not a skip.
if (!haproxy && process.env['CI']) throw new Error('haproxy is not installed: .ci/run installs it');
if (!haproxy) console.warn('two-instances.test.ts skipped: Debian haproxy is not installed (apt-get install haproxy)');

const SECRET = 'two-instances-secret';
const JOBS = ['payment-status', 'sms-outbox', 'alert-rules'];

describe.skipIf(!server || !haproxy)('two cloud instances behind HAProxy on one PostgreSQL', () => {
  let lb: RunningLoadBalancer;
  let mtn: RunningSimulator;
  const instances: RunningCloud[] = [];

  beforeAll(async () => {
    lb = await loadBalancer();
    // One provider for the fleet, as in production: either instance may ask it about any payment.
    mtn = await startMtnMomoSimulator({ host: '127.0.0.1', port: 0, targetEnvironment: 'mtnuganda' });
    const database = server!.fresh();
    for (let i = 0; i < 2; i += 1) {
      instances.push(
        await startCloud({
          ...database,
          port: 0,
          logger: false,
          publicUrl: lb.url,
          webhookSecret: SECRET,
          providers: {
            mtn: { baseUrl: mtn.url, targetEnvironment: 'mtnuganda', currency: 'UGX', ...MTN_SIMULATOR_CREDENTIALS },
            statusPollIntervalMs: 200,
          },
          sms: { transport: { deliver: async () => ({ outcome: 'accepted' }) }, outbox: { sweepMs: 200 } },
          fleet: { rulesIntervalMs: 200 },
          // No periodic look: only a notification can wake a long-poll within the test.
          changeFeed: { recheckMs: 600_000 },
        }),
      );
    }
    await lb.start(instances.map((cloud) => `127.0.0.1:${cloud.port}`));
  });
  afterAll(async () => {
    await lb?.close();
    for (const cloud of instances) await cloud.close();
    await mtn?.close();
    await server?.cleanup();
  });

  async function pull(
    credential: KioskCredential,
    query: Record<string, string>,
  ): Promise<{ servedBy: string; body: PullResponse }> {
    const authorization = `Basic ${Buffer.from(`${credential.kioskId}:${credential.secret}`).toString('base64')}`;
    const response = await fetch(`${lb.url}${SYNC_PATHS.customers}?${new URLSearchParams(query)}`, {
      headers: { authorization },
    });
    expect(response.status).toBe(200);
    return { servedBy: response.headers.get('x-served-by') ?? '', body: (await response.json()) as PullResponse };
  }

  type Delivered = { servedBy: string; balance: number };

  /**
   * Registers a customer by USSD, has four kiosks wait for the customer's credit by `deliver`
   * (round-robin puts them on both instances), pays the top-up through the load balancer and
   * checks that every kiosk got it, from both instances.
   */
  async function expectTopUpOnBothInstances(
    phone: string,
    name: string,
    kioskIds: string[],
    deliver: (kiosk: KioskCredential, cursor: string, accountId: string) => Promise<Delivered>,
  ): Promise<void> {
    const screens = await dial(lb.url, phone, ['1', name, '2580', '2580'], '64110', `?token=${SECRET}`);
    const accountId = /TS\w{7}/.exec(screens.at(-1)!)![0];
    const kiosks = await Promise.all(kioskIds.map((kioskId) => createKiosk(instances[0]!.db, { kioskId })));
    const heads = await Promise.all(kiosks.map(async (kiosk) => (await pull(kiosk, { limit: '5000' })).body.cursor));

    const waits = vi.spyOn(ChangeFeed.prototype, 'waitForChange');
    try {
      const delivered = kiosks.map((kiosk, i) => deliver(kiosk, heads[i]!, accountId));
      // Every kiosk is waiting for the next change: the payment must be what wakes it.
      await vi.waitFor(() => expect(waits.mock.calls.length).toBeGreaterThanOrEqual(kiosks.length), {
        timeout: 30_000,
      });

      const confirm = await dial(lb.url, phone, ['2', '1000', '1'], '64110', `?token=${SECRET}`);
      expect(confirm.at(-1)).toMatch(/^END Approve the MTN MoMo prompt/);
      const payment = [...mtn.payments.values()].find((p) => p.msisdn === phone.slice(1));
      // The customer approves; MoMo calls back through the load balancer, to either instance.
      await mtn.decide(payment!.reference, true);

      const answers = await Promise.all(delivered);
      expect(answers.map((answer) => answer.balance)).toEqual(kiosks.map(() => 400_000));
      // Both instances delivered it: the one the callback did not reach learnt of it by NOTIFY.
      expect(new Set(answers.map((answer) => answer.servedBy))).toEqual(new Set(['a', 'b']));
    } finally {
      waits.mockRestore();
    }
  }

  /** Long-polls through HAProxy until `accountId` arrives with credit; which instance answered. */
  async function longPollUntilCredited(kiosk: KioskCredential, head: string, accountId: string): Promise<Delivered> {
    for (let cursor = head; ; ) {
      const { servedBy, body } = await pull(kiosk, { cursor, wait_s: '25' });
      const record = body.customers.find((customer) => customer.account_id === accountId);
      if (record && record.balance_ml > 0) return { servedBy, balance: record.balance_ml };
      cursor = body.cursor;
    }
  }

  /** Follows the customer stream through HAProxy until `accountId` arrives with credit; which instance served it. */
  async function followUntilCredited(
    credential: KioskCredential,
    cursor: string,
    accountId: string,
  ): Promise<Delivered> {
    const authorization = `Basic ${Buffer.from(`${credential.kioskId}:${credential.secret}`).toString('base64')}`;
    const stop = new AbortController();
    const response = await fetch(
      `${lb.url}${SYNC_PATHS.customerStream}?${new URLSearchParams({ cursor, wait_s: '25' })}`,
      {
        headers: { authorization },
        signal: stop.signal,
      },
    );
    expect(response.status).toBe(200);
    // fetch asked for gzip and reads the pages' gzip members as one body.
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (let pending = ''; ; ) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error('the stream ended before the credit arrived');
        pending += chunk.value;
        for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
          const page = JSON.parse(pending.slice(0, at)) as PullResponse;
          pending = pending.slice(at + 1);
          const record = page.customers.find((customer) => customer.account_id === accountId);
          if (record && record.balance_ml > 0)
            return { servedBy: response.headers.get('x-served-by') ?? '', balance: record.balance_ml };
        }
      }
    } finally {
      stop.abort();
    }
  }

  it('wakes kiosks long-polling either instance when a top-up is paid through the other', () =>
    expectTopUpOnBothInstances(
      '+256772555001',
      'Asha Namono',
      ['LB-1', 'LB-2', 'LB-3', 'LB-4'],
      longPollUntilCredited,
    ));

  it('streams a top-up paid through one instance to kiosks following either', () =>
    expectTopUpOnBothInstances(
      '+256772555002',
      'Okello Peter',
      ['LB-S1', 'LB-S2', 'LB-S3', 'LB-S4'],
      followUntilCredited,
    ));

  it('runs the payment status checks, the SMS outbox sweep and the alert rules on one instance, not on each', async () => {
    const ticks = async (cloud: RunningCloud): Promise<Map<string, { ran: number; skipped: number }>> => {
      const text = await (await fetch(`${cloud.url}/metrics`)).text();
      const counts = new Map(JOBS.map((job) => [job, { ran: 0, skipped: 0 }]));
      for (const match of text.matchAll(
        /^tusafishe_exclusive_job_runs_total\{job="([^"]+)",outcome="(\w+)"\} (\d+)/gm,
      )) {
        const entry = counts.get(match[1]!);
        if (!entry) continue;
        if (match[2] === 'skipped') entry.skipped += Number(match[3]);
        else entry.ran += Number(match[3]);
      }
      return counts;
    };
    // Every instance ticks every 200 ms; wait until each has ticked each job several times.
    await vi.waitFor(
      async () => {
        for (const cloud of instances)
          for (const [job, count] of await ticks(cloud))
            expect(count.ran + count.skipped, `${job} ticks`).toBeGreaterThanOrEqual(5);
      },
      { timeout: 60_000, interval: 200 },
    );
    const [first, second] = await Promise.all(instances.map(ticks));
    for (const job of JOBS) {
      const ran = [first!.get(job)!.ran, second!.get(job)!.ran];
      expect(
        ran.filter((count) => count > 0),
        job,
      ).toHaveLength(1);
    }
    // Asked to run the alert rules now, only the instance holding the job does.
    const holder = first!.get('alert-rules')!.ran > 0 ? 0 : 1;
    expect(await instances[1 - holder]!.fleet.runAlertRules()).toBe(false);
    expect(await instances[holder]!.fleet.runAlertRules()).toBe(true);
  });
});
