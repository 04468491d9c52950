import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSmsWriter, formatDevSms } from './dev-sms.js';

describe("the demo's phone (DEV_SMS_FD lines)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dev-sms-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints what a writer wrote, one message a line, marked with its sender when given', async () => {
    const file = join(dir, 'sms.jsonl');
    const fd = openSync(file, 'w');
    const write = devSmsWriter(fd);
    write({ phone: '+256772000001', message: 'Balance: 20 L.\nAccount TS000001' });
    write({ phone: '+254700000190', message: 'Tusafishe K1: Tank low' });
    await expect.poll(() => readFileSync(file, 'utf8').split('\n').length).toBe(3);
    closeSync(fd);
    const [cloud, modem] = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(formatDevSms(cloud ?? '')).toBe('SMS to +256772000001: Balance: 20 L. / Account TS000001');
    expect(formatDevSms(modem ?? '', 'the kiosk modem')).toBe(
      'SMS to +254700000190 (sent by the kiosk modem): Tusafishe K1: Tank low',
    );
  });

  it('prints nothing for a line that is not a message', () => {
    expect(formatDevSms('not json')).toBeUndefined();
    expect(formatDevSms('{"phone":"+256772000001"}')).toBeUndefined();
  });
});
