import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import * as z from 'zod/mini';

/**
 * One Moddable XS engine in its own process: the `xsnap-worker` that `@agoric/xsnap` builds
 * from Moddable's XS sources at install. We drive the worker's pipe protocol here (netstrings
 * on fds 3 and 4) rather than through the package's Node API, because that API needs SES
 * `lockdown()` of the whole host process (every intrinsic frozen), which the gateway, aedes and
 * MQTT.js running beside it in a test were never written for.
 *
 * Parent → worker: `?<bytes>` calls the worker's global `handleCommand(ArrayBuffer)` and runs
 * its promise jobs to idle (one "crank"); `m<path>` runs a module file; `w<path>` writes a
 * snapshot (after a full garbage collection); `q` quits. The worker answers `.<meter>\1<reply>`
 * or `!<error>`. During a crank the worker's synchronous `issueCommand(ArrayBuffer)` sends
 * `?<bytes>` up and blocks until the parent answers `/<bytes>`.
 */

/** XS's own meters after a crank. */
export const XsMeter = z.object({
  /** Heap slots in use: live at the last collection plus those allocated since. */
  currentHeapCount: z.number(),
  /** Bytes the engine has reserved from the OS for chunks and slots. */
  allocate: z.number(),
  /** Metered computation steps of the crank. */
  compute: z.number(),
});
export type XsMeter = z.infer<typeof XsMeter>;

export interface XsReply {
  reply: Uint8Array;
  meter: XsMeter;
}

export interface XsWorkerOptions {
  /** Answers the worker's `issueCommand` synchronously (the worker is blocked until then). */
  onQuery(message: Uint8Array): Uint8Array;
}

/** The machine's live memory after a full collection, as its snapshot records it. */
export interface XsMemory {
  /** Bytes of one slot on this build (32 on a 64-bit host; 16 on the ESP32). */
  slotBytes: number;
  /** Heap slots in use. */
  slots: number;
  /** Chunk bytes in use (strings, bytecode, arrays' and objects' bodies). */
  chunkBytes: number;
  /** Property keys (names and symbols) in use. */
  keys: number;
}

/** What a worker's exit or error says, with the end of its output. */
export class XsWorkerError extends Error {
  readonly code = 'XS_WORKER';
}

const OUTPUT_TAIL = 4000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The release `xsnap-worker` binary of the installed `@agoric/xsnap`. */
function xsnapWorkerBinary(): string {
  const packageJson = createRequire(import.meta.url).resolve('@agoric/xsnap/package.json');
  return join(dirname(packageJson), 'xsnap-native/xsnap/build/bin/lin/release/xsnap-worker');
}

export class XsWorker {
  readonly #process: ChildProcess;
  readonly #toWorker: Writable;
  readonly #options: XsWorkerOptions;
  #input = Buffer.alloc(0);
  #output = '';
  /** Commands run one at a time; the next waits for this one's answer. */
  #queue: Promise<unknown> = Promise.resolve();
  #pending: { resolve(message: Buffer): void; reject(error: Error): void } | undefined;
  #exit: XsWorkerError | undefined;
  readonly exited: Promise<XsWorkerError>;
  /** Called with XS's meters after every command (the bench follows allocation crank by crank). */
  onMeter: ((meter: XsMeter) => void) | undefined;

  constructor(options: XsWorkerOptions) {
    this.#options = options;
    this.#process = spawn(xsnapWorkerBinary(), ['tusafishe-dispenser'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const [, stdout, stderr, toWorker, fromWorker] = this.#process.stdio as [
      null,
      Readable,
      Readable,
      Writable,
      Readable,
    ];
    this.#toWorker = toWorker;
    // A killed worker's pipe may report EPIPE; its exit is what counts.
    toWorker.on('error', () => undefined);
    for (const stream of [stdout, stderr])
      stream.on(
        'data',
        (chunk: Buffer) => (this.#output = (this.#output + chunk.toString('utf8')).slice(-OUTPUT_TAIL)),
      );
    fromWorker.on('data', (chunk: Buffer) => this.#received(chunk));
    this.exited = new Promise((resolve) => {
      this.#process.once('error', (error) => this.#ended(new XsWorkerError(`xsnap-worker: ${error.message}`), resolve));
      this.#process.once('exit', (code, signal) =>
        this.#ended(
          new XsWorkerError(
            `xsnap-worker exited (${signal ?? `code ${code}`})${this.#output ? `: ${this.#output}` : ''}`,
          ),
          resolve,
        ),
      );
    });
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Runs `handleCommand(message)` in the worker; resolves with its reply and the meters. */
  command(message: Uint8Array): Promise<XsReply> {
    return this.#run('?', message).then(parseOk);
  }

  /** Runs a module file (an ES module with no imports, as the firmware bundle is). */
  async importModule(path: string): Promise<void> {
    await this.#run('m', encoder.encode(path));
  }

  /** Collects garbage and measures what stays live, from a snapshot of the machine. */
  async memory(): Promise<XsMemory> {
    const dir = await mkdtemp(join(tmpdir(), 'tusafishe-xs-snapshot-'));
    try {
      const path = join(dir, 'machine.xss');
      await this.#run('w', encoder.encode(path));
      return snapshotMemory(await readFile(path));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Power cut: the process is killed where it stands. */
  kill(): Promise<XsWorkerError> {
    this.#process.kill('SIGKILL');
    return this.exited;
  }

  /** Orderly end once queued commands have run. */
  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    if (this.running) this.#send('q', new Uint8Array());
    this.#toWorker.end();
    await this.exited;
  }

  #run(kind: string, payload: Uint8Array): Promise<Buffer> {
    const result = this.#queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.#exit) return reject(this.#exit);
          this.#pending = { resolve, reject };
          this.#send(kind, payload);
        }),
    );
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #send(kind: string, payload: Uint8Array): void {
    const body = Buffer.concat([Buffer.from(kind), payload]);
    this.#toWorker.write(Buffer.concat([Buffer.from(`${body.byteLength}:`), body, Buffer.from(',')]));
  }

  /** Netstrings `<length>:<bytes>,` from fd 4, in as many chunks as the pipe gives. */
  #received(chunk: Buffer): void {
    this.#input = Buffer.concat([this.#input, chunk]);
    for (;;) {
      const colon = this.#input.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.#input.subarray(0, colon).toString('ascii'));
      if (this.#input.byteLength < colon + 2 + length) return;
      const message = this.#input.subarray(colon + 1, colon + 1 + length);
      this.#input = this.#input.subarray(colon + 2 + length);
      this.#message(message);
    }
  }

  #message(message: Buffer): void {
    const kind = String.fromCharCode(message[0] ?? 0);
    const body = message.subarray(1);
    if (kind === '?') {
      this.#send('/', this.#options.onQuery(body));
      return;
    }
    const pending = this.#pending;
    this.#pending = undefined;
    if (kind === '.') {
      this.onMeter?.(parseOk(body).meter);
      pending?.resolve(body);
    } else pending?.reject(new XsWorkerError(`XS: ${body.toString('utf8') || 'failed'}${this.#tail()}`));
  }

  #tail(): string {
    return this.#output ? ` (worker output: ${this.#output.trim()})` : '';
  }

  #ended(error: XsWorkerError, resolve: (error: XsWorkerError) => void): void {
    if (this.#exit) return;
    this.#exit = error;
    this.#pending?.reject(error);
    this.#pending = undefined;
    resolve(error);
  }
}

/**
 * A snapshot is one atom `XS_M` holding atoms (4-byte big-endian size including the 8-byte
 * header, 4-character tag): VERS (its 4th byte is the slot size), SIGN, CREA, BLOC (the live
 * chunks), HEAP (the live slots), STAC, KEYS (one pointer per key), NAME, SYMB.
 */
function snapshotMemory(snapshot: Buffer): XsMemory {
  const atoms = new Map<string, Buffer>();
  for (let at = 8; at + 8 <= snapshot.byteLength; ) {
    const size = snapshot.readUInt32BE(at);
    if (size < 8) throw new XsWorkerError('corrupt XS snapshot');
    atoms.set(snapshot.toString('ascii', at + 4, at + 8), snapshot.subarray(at + 8, at + size));
    at += size;
  }
  const slotBytes = Math.abs(atoms.get('VERS')?.readInt8(3) ?? 0);
  const [chunks, heap, keys] = ['BLOC', 'HEAP', 'KEYS'].map((tag) => atoms.get(tag));
  if (!slotBytes || !chunks || !heap || !keys) throw new XsWorkerError('XS snapshot without its memory atoms');
  const pointerBytes = slotBytes / 4;
  return {
    slotBytes,
    slots: heap.byteLength / slotBytes,
    chunkBytes: chunks.byteLength,
    keys: keys.byteLength / pointerBytes,
  };
}

/** `.<meter JSON>\1<reply>` (a module run or snapshot may carry no reply). */
function parseOk(body: Buffer): XsReply {
  const separator = body.indexOf(1);
  const meterJson = separator < 0 ? body : body.subarray(0, separator);
  return {
    meter: XsMeter.parse(JSON.parse(decoder.decode(meterJson))),
    reply: separator < 0 ? new Uint8Array() : new Uint8Array(body.subarray(separator + 1)),
  };
}
