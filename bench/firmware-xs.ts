/**
 * The firmware bundle on Moddable's XS engine (an xsnap worker) through one purchase against a
 * real gateway, measured by XS itself: live slots, chunk bytes and keys from snapshots of the
 * machine (each after a full collection) at every idle point, and the slots each crank allocates
 * from XS's meters. From them, the manifest's `creation` settings with 50 % headroom.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XsWorker, startSimulatedDispenser, xsFirmwareBundle, type XsMemory } from '@tusafishe/dispenser-firmware/host';
import { demoPassword, startTestGateway } from '@tusafishe/gateway/testing';

/** ESP32 (32-bit): a slot is 16 bytes, a key table entry one 4-byte pointer. */
const DEVICE_SLOT_BYTES = 16;
const DEVICE_POINTER_BYTES = 4;
const HEADROOM = 1.5;
/** Not metered by xsnap (its stack is fixed at 4096 slots): twice Moddable's base manifest's 256. */
const STACK_SLOTS = 512;

type Figures = Omit<XsMemory, 'slotBytes'>;

const roundUp = (value: number, step: number) => Math.ceil(value / step) * step;
const over = (a: Figures, b: Figures): Figures => ({
  slots: a.slots - b.slots,
  chunkBytes: a.chunkBytes - b.chunkBytes,
  keys: a.keys - b.keys,
});
const max = (samples: Figures[]): Figures => ({
  slots: Math.max(...samples.map((s) => s.slots)),
  chunkBytes: Math.max(...samples.map((s) => s.chunkBytes)),
  keys: Math.max(...samples.map((s) => s.keys)),
});

/** A fresh engine's memory after running `module` (none: the engine alone). */
async function engineWith(module?: string): Promise<XsMemory> {
  const worker = new XsWorker({ onQuery: () => new Uint8Array() });
  try {
    if (module) await worker.importModule(module);
    return await worker.memory();
  } finally {
    await worker.kill();
  }
}

/**
 * The bundle compiled but never run (wrapped in a function nobody calls): its bytecode, which
 * xsnap keeps in chunks while the device runs it from flash, is subtracted from the figures.
 */
async function compiledOnly(bundle: string, dir: string): Promise<string> {
  const path = join(dir, 'compiled-only.js');
  await writeFile(path, `function neverCalled() {\n${await readFile(bundle, 'utf8')}\n}\n`);
  return path;
}

export async function measureFirmwareOnXs() {
  const bundle = await xsFirmwareBundle();
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-bench-xs-'));
  const empty = await engineWith();
  const code = await engineWith(await compiledOnly(bundle, dir));
  const loaded = await engineWith(bundle);
  const gateway = await startTestGateway({ dataDir: join(dir, 'gateway') });
  try {
    const d1 = await startSimulatedDispenser({
      id: 'D1',
      password: demoPassword(gateway, 'D1'),
      mqttUrl: `mqtt://127.0.0.1:${gateway.mqttPort}`,
      dataDir: join(dir, 'D1'),
      flowRateMlPerSecond: 2000,
      engine: 'xs',
    });
    const worker = d1.xs!.worker;
    const samples: Record<string, XsMemory> = {};
    const sample = async (label: string) => {
      await d1.xs!.settled();
      samples[label] = await worker.memory();
    };
    let crankSlotsMax = 0;
    let lastHeapCount: number | undefined;
    const followCranks = () =>
      (worker.onMeter = ({ currentHeapCount }) => {
        // Between two snapshots nothing is collected, so the rise is what the crank allocated.
        if (lastHeapCount !== undefined && currentHeapCount > lastHeapCount)
          crankSlotsMax = Math.max(crankSlotsMax, currentHeapCount - lastHeapCount);
        lastHeapCount = currentHeapCount;
      });

    await d1.waitForLcd('Enter phone number', 15_000);
    await sample('idle');
    followCranks();
    for (let purchase = 1; purchase <= 2; purchase++) {
      await d1.press('0700000101');
      await sample(`phone_${purchase}`);
      await d1.press('#1234#');
      await sample(`volume_${purchase}`);
      await d1.press('A');
      await d1.waitFor((d) => d.valveOpen, 'valve open', 10_000);
      await d1.waitFor((d) => d.pulses >= 200, 'water flowing', 10_000);
      await sample(`dispensing_${purchase}`);
      await d1.waitForLcd(`Balance ${20 - purchase}L`, 15_000);
      await sample(`done_${purchase}`);
      await d1.press('#');
      await d1.waitForLcd('Enter phone number');
      await sample(`steady_${purchase}`);
    }
    await d1.stop();

    const peak = max(Object.values(samples));
    const steady = samples['steady_2']!;
    // What the firmware holds in RAM: beyond the engine's own objects and the bytecode.
    const firmware = over(peak, code);
    const heapSlots = roundUp((firmware.slots + crankSlotsMax) * HEADROOM, 64);
    const chunkBytes = roundUp(firmware.chunkBytes * HEADROOM, 1024);
    // Keys the firmware creates at run time (XS interns the bundle's own with its bytecode); at least 32.
    const keys = Math.max(32, roundUp(firmware.keys * HEADROOM, 32));
    const creation = {
      chunk: { initial: chunkBytes, incremental: 1024 },
      heap: { initial: heapSlots, incremental: 64 },
      stack: STACK_SLOTS,
      keys: { available: keys },
    };
    const deviceBytes = chunkBytes + (heapSlots + STACK_SLOTS) * DEVICE_SLOT_BYTES + keys * DEVICE_POINTER_BYTES;
    for (const [label, memory] of Object.entries({ empty, code, loaded, ...samples }))
      console.log(`${label.padEnd(14)} slots ${memory.slots}  chunk bytes ${memory.chunkBytes}  keys ${memory.keys}`);
    return {
      xs_slot_bytes: empty.slotBytes,
      xs_bytecode: over(code, empty),
      xs_firmware_loaded: over(loaded, code),
      xs_steady: over(steady, code),
      xs_steady_growth_second_purchase: over(steady, samples['steady_1']!),
      xs_peak: firmware,
      xs_crank_slots_max: crankSlotsMax,
      creation,
      esp32_xs_bytes: deviceBytes,
    };
  } finally {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  }
}
