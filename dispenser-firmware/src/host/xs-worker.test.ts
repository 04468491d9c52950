import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XsWorker } from './xs-worker.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Echoes each command through the host (issueCommand) and back; `throw` throws. */
const MODULE = `
globalThis.handleCommand = (message) => {
  const text = new TextDecoder().decode(message);
  if (text === 'throw') throw new Error('refused by XS');
  if (text === 'hold') globalThis.held = Array.from({ length: 10000 }, (_, i) => ({ i }));
  if (text === 'drop') globalThis.held = undefined;
  if (text === 'hold' || text === 'drop') return new ArrayBuffer(0);
  const answer = new TextDecoder().decode(issueCommand(message));
  return new TextEncoder().encode(answer + '!').buffer;
};`;

let dir: string;
let worker: XsWorker;
const queries: string[] = [];

async function startWorker(): Promise<XsWorker> {
  const started = new XsWorker({
    onQuery: (message) => {
      queries.push(decoder.decode(message));
      return encoder.encode(decoder.decode(message).toUpperCase());
    },
  });
  await started.importModule(join(dir, 'echo.js'));
  return started;
}

// One xsnap process for the file (each test leaves it serving); the kill test starts its own.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusafishe-xs-'));
  await writeFile(join(dir, 'echo.js'), MODULE);
  worker = await startWorker();
});
afterAll(async () => {
  await worker?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('XS worker (xsnap)', () => {
  it('runs a command that calls back into the host, and reports the meters', async () => {
    const { reply, meter } = await worker.command(encoder.encode('water'));
    expect(decoder.decode(reply)).toBe('WATER!');
    expect(queries).toContain('water');
    expect(meter.currentHeapCount).toBeGreaterThan(0);
  });

  it('carries messages larger than one pipe chunk, in order', async () => {
    const big = 'x'.repeat(300_000);
    const [first, second] = await Promise.all([
      worker.command(encoder.encode(big)),
      worker.command(encoder.encode('after')),
    ]);
    expect(decoder.decode(first.reply)).toBe(`${big.toUpperCase()}!`);
    expect(decoder.decode(second.reply)).toBe('AFTER!');
  });

  it('rejects with the exception XS threw, and keeps serving', async () => {
    await expect(worker.command(encoder.encode('throw'))).rejects.toThrow('refused by XS');
    expect(decoder.decode((await worker.command(encoder.encode('ok'))).reply)).toBe('OK!');
  });

  it('measures the live memory from a snapshot: what the program holds, not its garbage', async () => {
    const before = await worker.memory();
    expect(before.slotBytes).toBe(32);
    await worker.command(encoder.encode('hold'));
    const holding = await worker.memory();
    expect(holding.slots - before.slots).toBeGreaterThanOrEqual(20_000); // 10,000 objects with one property each
    expect(holding.chunkBytes).toBeGreaterThan(before.chunkBytes);
    await worker.command(encoder.encode('drop'));
    const dropped = await worker.memory();
    expect(dropped.slots - before.slots).toBeLessThan(100);
  });

  it('fails every later command once the worker is killed', async () => {
    const doomed = await startWorker();
    const exit = await doomed.kill();
    expect(exit.message).toContain('SIGKILL');
    expect(doomed.running).toBe(false);
    await expect(doomed.command(encoder.encode('late'))).rejects.toMatchObject({ code: 'XS_WORKER' });
  });
});
