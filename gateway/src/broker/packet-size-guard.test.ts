import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from './packet-size-guard.js';

/** Feeds `chunks` through a guard; resolves to the bytes passed, or rejects with its error. */
function feed(max: number, chunks: Buffer[]): Promise<Buffer> {
  const guard = new PacketSizeGuard(max);
  const passed: Buffer[] = [];
  return new Promise((resolve, reject) => {
    guard.on('data', (chunk: Buffer) => passed.push(chunk));
    guard.on('error', reject);
    guard.on('end', () => resolve(Buffer.concat(passed)));
    for (const chunk of chunks) guard.write(chunk);
    guard.end();
  });
}

const packet = (type: number, body: number): Buffer => {
  const length: number[] = [];
  let left = body;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    length.push(byte);
  } while (left > 0);
  return Buffer.concat([Buffer.from([type, ...length]), Buffer.alloc(body, 0x61)]);
};

describe('MQTT packet size guard', () => {
  it('passes packets up to the cap unchanged, however the bytes are split', async () => {
    const stream = Buffer.concat([packet(0x10, 30), packet(0x30, 200), packet(0xc0, 0), packet(0x30, 1000)]);
    const split: Buffer[] = [];
    let used = 0;
    for (const size of [1, 2, 3, 150, 7, stream.length]) {
      if (used >= stream.length) break;
      split.push(stream.subarray(used, Math.min(stream.length, used + size)));
      used += size;
    }
    expect(await feed(1000, split)).toEqual(stream);
    expect(await feed(1000, [stream])).toEqual(stream);
  });

  it('refuses a packet announcing more than the cap, split across chunks too', async () => {
    const big = packet(0x30, 1001).subarray(0, 10);
    await expect(feed(1000, [packet(0x30, 10), big])).rejects.toMatchObject({ code: 'MQTT_PACKET_TOO_LARGE' });
    await expect(feed(1000, [big.subarray(0, 2), big.subarray(2)])).rejects.toMatchObject({
      code: 'MQTT_PACKET_TOO_LARGE',
    });
  });

  it('refuses a remaining length longer than four bytes', async () => {
    await expect(feed(1000, [Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])])).rejects.toMatchObject({
      code: 'MQTT_PACKET_MALFORMED',
    });
  });
});
