import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { classifyAfricasTalkingStatus, type SmsDelivery } from '../src/sms/sender.js';
import { backends } from './backends.js';

describe("Africa's Talking per-recipient status codes", () => {
  it('accepts 100-102, gives up on numbers that will never take a message, retries the rest', () => {
    expect(classifyAfricasTalkingStatus(101, 'Success').outcome).toBe('accepted');
    expect(classifyAfricasTalkingStatus(102, 'Queued').outcome).toBe('accepted');
    expect(classifyAfricasTalkingStatus(403, 'InvalidPhoneNumber').outcome).toBe('rejected');
    expect(classifyAfricasTalkingStatus(406, 'UserInBlacklist').outcome).toBe('rejected');
    expect(classifyAfricasTalkingStatus(405, 'InsufficientBalance').outcome).toBe('retry');
    expect(classifyAfricasTalkingStatus(500, 'InternalServerError').outcome).toBe('retry');
  });
});

describe.each(backends())('durable SMS outbox on $name', (backend) => {
  let cloud: RunningCloud;
  /** What the SMS provider answers next, per phone: a queue of answers, then "accepted". */
  const answers = new Map<string, (SmsDelivery | Error)[]>();
  const delivered: string[] = [];

  beforeAll(async () => {
    cloud = await startCloud({
      ...backend.fresh(),
      port: 0,
      logger: false,
      providers: { statusPollIntervalMs: 0 },
      sms: {
        transport: {
          async deliver(phone, message) {
            const next = answers.get(phone)?.shift();
            if (next instanceof Error) throw next;
            if (next) return next;
            delivered.push(`${phone}: ${message}`);
            return { outcome: 'accepted', messageId: `ATXid_${delivered.length}` };
          },
        },
        outbox: { retryMs: 20, maxRetryMs: 100 },
      },
    });
  });
  afterAll(async () => {
    await cloud?.close();
    await backend.cleanup();
  });
  const row = async (phone: string) =>
    (
      await cloud.db.query<{ status: string; attempts: number; provider_message_id: string | null }>(
        'SELECT status, attempts, provider_message_id FROM sms_outbox WHERE phone = $1',
        [phone],
      )
    )[0];

  it('keeps a message until the SMS provider accepts it, through outages and refusals that may pass', async () => {
    const phone = '+256772900001';
    answers.set(phone, [
      new Error('socket hang up'),
      classifyAfricasTalkingStatus(405, 'InsufficientBalance'),
      classifyAfricasTalkingStatus(500, 'InternalServerError'),
    ]);
    await cloud.sms.send(phone, 'Tusafishe: hello');
    await vi.waitFor(async () => expect(await row(phone)).toMatchObject({ status: 'sent', attempts: 4 }), {
      timeout: 15_000,
      interval: 50,
    });
    expect(delivered.filter((d) => d.startsWith(phone))).toEqual([`${phone}: Tusafishe: hello`]);
    expect((await row(phone))?.provider_message_id).toMatch(/^ATXid_/);
  });

  it('gives up on a number the provider will never deliver to, once', async () => {
    const phone = '+256772900002';
    answers.set(phone, [classifyAfricasTalkingStatus(403, 'InvalidPhoneNumber')]);
    await cloud.sms.send(phone, 'Tusafishe: hello');
    await vi.waitFor(async () => expect(await row(phone)).toMatchObject({ status: 'rejected', attempts: 1 }), 20_000);
    await cloud.sms.dispatch();
    expect(await row(phone)).toMatchObject({ status: 'rejected', attempts: 1 });
  });
});
