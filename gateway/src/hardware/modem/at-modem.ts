import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { HardwareError } from '../hardware-error.js';
import { AtLineSplitter, SMS_PROMPT } from './at-line-splitter.js';
import { FAILURE_RESULT, isUnsolicited, parseMessageReference } from './at-responses.js';

export interface CommandOptions {
  /** Prefix of the information lines that answer this command, e.g. `+CSQ:`. */
  expect?: string;
  timeoutMs: number;
  /** Sent after the `> ` prompt, then Ctrl-Z (AT+CMGS). */
  payload?: string;
}

interface Pending {
  command: string;
  options: CommandOptions;
  lines: string[];
  resolve(lines: string[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const CTRL_Z = '\x1a';
const ESC = '\x1b';
const SMS_MAX_CHARS = 160;

/**
 * AT command channel over any byte stream (a SerialPort in the field, a pty in
 * tests): one command at a time in a queue, each ended by its final result code
 * or its timeout. While a command waits, lines that answer it are collected,
 * unsolicited result codes are emitted as `urc`, anything else as `garbage`
 * (line noise, boot banners), so neither can complete or corrupt an answer.
 */
export class AtModem extends EventEmitter<{ urc: [line: string]; garbage: [line: string] }> {
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly port: Duplex) {
    super();
    const lines = port.pipe(new AtLineSplitter());
    lines.on('data', (line: string) => this.onLine(line));
    port.once('close', () => this.close());
  }

  /** Queues `command`; resolves to its information lines once the modem says OK. */
  command(command: string, options: CommandOptions): Promise<string[]> {
    const run = this.queue.then(() => this.execute(command, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Text-mode SMS; resolves to the network's message reference. */
  async sendSms(to: string, text: string, timeoutMs: number): Promise<number> {
    if (!/^\+[1-9][0-9]{6,14}$/.test(to)) throw new HardwareError('MODEM_ERROR', `not an E.164 number: ${to}`);
    const lines = await this.command(`AT+CMGS="${to}"`, { expect: '+CMGS:', timeoutMs, payload: smsText(text) });
    return parseMessageReference(lines);
  }

  /** Fails the command in progress and every queued one; the port is left to its owner. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finish(new HardwareError('MODEM_CLOSED', 'modem channel closed'));
  }

  private execute(command: string, options: CommandOptions): Promise<string[]> {
    if (this.closed) return Promise.reject(new HardwareError('MODEM_CLOSED', 'modem channel closed'));
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late `> ` would make the next command the SMS text: ESC abandons text entry.
        if (options.payload !== undefined) this.port.write(ESC);
        this.finish(new HardwareError('MODEM_TIMEOUT', `no answer to ${command} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      this.pending = { command, options, lines: [], resolve, reject, timer };
      this.port.write(`${command}\r`);
    });
  }

  private onLine(line: string): void {
    const pending = this.pending;
    if (!pending) {
      this.emit(isUnsolicited(line) ? 'urc' : 'garbage', line);
      return;
    }
    if (line === 'OK') return this.finish(undefined, pending.lines);
    if (FAILURE_RESULT.test(line)) {
      const [, kind, code] = /^\+(CM[ES]) ERROR:\s*(.*)$/.exec(line) ?? [];
      return this.finish(
        new HardwareError(
          'MODEM_ERROR',
          `${pending.command} failed: ${line}`,
          kind ? { kind, code } : { result: line },
        ),
      );
    }
    if (line === SMS_PROMPT && pending.options.payload !== undefined) {
      this.port.write(pending.options.payload + CTRL_Z);
      return;
    }
    if (line === pending.command) return; // echo (ATE1)
    if (pending.options.expect && line.startsWith(pending.options.expect)) {
      pending.lines.push(line);
      return;
    }
    this.emit(isUnsolicited(line) ? 'urc' : 'garbage', line);
  }

  private finish(error: Error | undefined, lines: string[] = []): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(lines);
  }
}

/** What a GSM 7-bit text-mode SMS can carry: printable ASCII, one 160-character part. */
function smsText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e\n]/g, '')
    .slice(0, SMS_MAX_CHARS);
}
