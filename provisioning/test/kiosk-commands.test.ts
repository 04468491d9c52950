import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_PATHS } from '@tusafishe/protocol';
import { startCloud, type RunningCloud, kioskTariff } from '@tusafishe/cloud/provisioning';
import { printedValue, runCommand } from './run-command.js';

describe('kiosk create / rotate-secret', () => {
  let dir: string;
  let cloud: RunningCloud | undefined;
  const secrets: Record<string, string> = {};

  const pull = (kioskId: string, secret: string) =>
    fetch(`${cloud!.url}${SYNC_PATHS.customers}`, {
      headers: { authorization: `Basic ${Buffer.from(`${kioskId}:${secret}`).toString('base64')}` },
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provisioning-kiosk-'));
  });
  afterAll(async () => {
    await cloud?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the credential once as balena device variables and refuses a duplicate kiosk id', async () => {
    const env = { DATA_DIR: dir, CLOUD_URL: 'https://cloud.tusafishe.example' };
    const created = await runCommand(
      ['kiosk', 'create', 'KIOSK-042', '--tariff', 'UGX:50:20000', '--name', 'Kisumu market'],
      { env },
    );
    expect(created.code).toBe(0);
    expect(printedValue(created.out, 'KIOSK_ID')).toBe('KIOSK-042');
    expect(printedValue(created.out, 'CLOUD_URL')).toBe('https://cloud.tusafishe.example');
    secrets['KIOSK-042'] = printedValue(created.out, 'KIOSK_SECRET');

    const again = await runCommand(['kiosk', 'create', 'KIOSK-042'], { env });
    expect(again.code).toBe(1);
    expect(again.err).toContain('kiosk KIOSK-042 already exists: nothing changed');
    expect(again.out).not.toContain('KIOSK_SECRET');

    const other = await runCommand(['kiosk', 'create', 'KIOSK-043'], { env });
    const oldSecret = printedValue(other.out, 'KIOSK_SECRET');
    const rotated = await runCommand(['kiosk', 'rotate-secret', 'KIOSK-043'], { env });
    expect(rotated.code).toBe(0);
    secrets['KIOSK-043'] = printedValue(rotated.out, 'KIOSK_SECRET');
    secrets.old = oldSecret;
    expect(secrets['KIOSK-043']).not.toBe(oldSecret);

    const unknown = await runCommand(['kiosk', 'rotate-secret', 'KIOSK-999'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no kiosk KIOSK-999');
    const bad = await runCommand(['kiosk', 'create', 'KIOSK-044', '--tariff', '50 shillings'], { env });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('CURRENCY:PRICE_MINOR:VOLUME_ML');
  });

  it("the printed credentials authenticate against the cloud's kiosk API; a rotated-out secret does not", async () => {
    cloud = await startCloud({ dataDir: dir, host: '127.0.0.1', port: 0, logger: false });
    expect((await pull('KIOSK-042', secrets['KIOSK-042']!)).status).toBe(200);
    expect((await pull('KIOSK-043', secrets['KIOSK-043']!)).status).toBe(200);
    expect((await pull('KIOSK-043', secrets.old!)).status).toBe(401);
    expect((await pull('KIOSK-042', 'not-the-secret')).status).toBe(401);
    expect(await kioskTariff(cloud.db, 'KIOSK-042')).toEqual({ currency: 'UGX', priceMinor: 50, volumeMl: 20_000 });
  });
});
