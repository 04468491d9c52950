import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { HardwareConfig } from '../config.js';
import { HardwareError } from '../hardware-error.js';
import { AtModem } from './at-modem.js';
import {
  isRegistered,
  parseOperator,
  parseRegistration,
  parseSignal,
  parseSimState,
  SIM_CME_ERRORS,
  type Registration,
} from './at-responses.js';

export interface ModemStatus {
  /** not_fitted: no modem configured; absent: its port cannot be opened; unresponsive: no answer to AT. */
  state: 'not_fitted' | 'absent' | 'unresponsive' | 'ok';
  sim: string | null;
  /** Best of circuit (CREG) and LTE (CEREG) registration; the SIM7670G is LTE-only, so CEREG usually decides. */
  registration: Registration | null;
  registered: boolean;
  rssiDbm: number | null;
  operator: string | null;
  checkedAt: number | null;
  error?: string;
}

const INIT_COMMANDS = ['ATE0', 'AT+CMEE=1', 'AT+CMGF=1'];

/**
 * Owns the modem's serial port: opens it (again after an unplug), sets it up
 * (no echo, numeric errors, SMS text mode), polls SIM, signal, registration and
 * operator, and sends SMS through the same one-at-a-time command queue.
 */
export class ModemMonitor extends EventEmitter<{ status: [ModemStatus] }> {
  private port: SerialPort | undefined;
  private modem: AtModem | undefined;
  private connecting: Promise<AtModem | undefined> | undefined;
  /** The previous port's close: the OS lock on the device is held until it ends. */
  private closing: Promise<void> = Promise.resolve();
  private openError: string | undefined;
  private current: ModemStatus;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<ModemStatus> | undefined;
  private closed = false;

  constructor(
    private readonly config: HardwareConfig['modem'],
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.current = this.blank(config.path ? 'absent' : 'not_fitted');
  }

  status(): ModemStatus {
    return { ...this.current };
  }

  /** First status check now, then every pollIntervalMs. */
  start(): Promise<ModemStatus> {
    const first = this.poll();
    void first.finally(() => this.schedule());
    return first;
  }

  /** Checks the modem now; concurrent callers share the check in progress. */
  poll(): Promise<ModemStatus> {
    this.inFlight ??= this.check()
      .then((status) => this.publish(status))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  async sendSms(to: string, text: string): Promise<number> {
    const modem = await this.connect();
    if (!modem) throw new HardwareError('MODEM_CLOSED', `modem not available (${this.current.state})`);
    return modem.sendSms(to, text, this.config.smsTimeoutMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    this.disconnect();
    await this.closing;
  }

  private schedule(): void {
    if (this.closed || !this.config.path) return;
    this.timer = setTimeout(() => void this.poll().finally(() => this.schedule()), this.config.pollIntervalMs);
  }

  private async check(): Promise<ModemStatus> {
    if (!this.config.path) return this.blank('not_fitted');
    const modem = await this.connect().catch((error: Error) => error);
    if (modem instanceof Error) return { ...this.blank('unresponsive'), error: modem.message };
    if (!modem) return { ...this.blank('absent'), error: `cannot open ${this.config.path}: ${this.openError}` };
    const ask = (command: string, expect: string) =>
      modem.command(command, { expect, timeoutMs: this.config.commandTimeoutMs });
    try {
      const sim = await ask('AT+CPIN?', '+CPIN:').then(parseSimState, simStateFromError);
      const signal = parseSignal(await ask('AT+CSQ', '+CSQ:'));
      const registration = bestRegistration(
        await ask('AT+CREG?', '+CREG:').then((l) => parseRegistration(l, '+CREG:'), unknownUnlessTimeout),
        await ask('AT+CEREG?', '+CEREG:').then((l) => parseRegistration(l, '+CEREG:'), unknownUnlessTimeout),
      );
      const operator = await ask('AT+COPS?', '+COPS:').then(parseOperator, unknownUnlessTimeout);
      return {
        state: 'ok',
        sim,
        registration,
        registered: registration !== null && isRegistered(registration),
        rssiDbm: signal.dbm,
        operator,
        checkedAt: this.now(),
      };
    } catch (error) {
      if (error instanceof HardwareError && error.code === 'MODEM_TIMEOUT') {
        // A wedged modem is set up again once it answers.
        this.disconnect();
        return { ...this.blank('unresponsive'), error: error.message };
      }
      return { ...this.blank('ok'), checkedAt: this.now(), error: (error as Error).message };
    }
  }

  /** The set-up modem channel, opening the port if needed; undefined if the port cannot be opened. */
  private connect(): Promise<AtModem | undefined> {
    if (this.modem) return Promise.resolve(this.modem);
    // A status poll and an SMS may both find the port closed: open it once.
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<AtModem | undefined> {
    await this.closing;
    if (this.closed) return undefined;
    const port = new SerialPort({ path: this.config.path, baudRate: this.config.baudRate, autoOpen: false });
    const openError = await new Promise<Error | null>((resolve) => port.open(resolve));
    this.openError = openError?.message;
    if (openError) return undefined;
    port.on('error', (error) => this.logger.warn({ err: error }, 'modem port error'));
    port.once('close', () => {
      if (this.port === port) this.disconnect();
    });
    const modem = new AtModem(port);
    modem.on('urc', (line) => this.logger.info({ urc: line }, 'modem unsolicited result'));
    modem.on('garbage', (line) => this.logger.debug({ line }, 'modem line ignored'));
    this.port = port;
    this.modem = modem;
    try {
      for (const command of INIT_COMMANDS) await modem.command(command, { timeoutMs: this.config.commandTimeoutMs });
    } catch (error) {
      this.disconnect();
      throw error;
    }
    return modem;
  }

  private disconnect(): void {
    const port = this.port;
    this.modem?.close();
    this.modem = undefined;
    this.port = undefined;
    if (port?.isOpen) {
      // Reopening before this ends fails on the port's lock and would report a present modem as absent.
      this.closing = new Promise((resolve) => port.close(() => resolve()));
    }
  }

  private publish(status: ModemStatus): ModemStatus {
    if (status.registered !== this.current.registered || status.state !== this.current.state) {
      this.logger.info({ modem: status }, 'modem status changed');
    }
    this.current = status;
    this.emit('status', status);
    return status;
  }

  private blank(state: ModemStatus['state']): ModemStatus {
    return { state, sim: null, registration: null, registered: false, rssiDbm: null, operator: null, checkedAt: null };
  }
}

function simStateFromError(error: unknown): string {
  const code = error instanceof HardwareError ? String(error.details?.code ?? '') : '';
  const state = SIM_CME_ERRORS[code];
  if (state) return state;
  throw error;
}

/** A refused or odd answer leaves one field unknown; silence means the modem is wedged. */
function unknownUnlessTimeout(error: unknown): null {
  if (error instanceof HardwareError && error.code === 'MODEM_TIMEOUT') throw error;
  return null;
}

const REGISTRATION_RANK: Registration[] = ['home', 'roaming', 'searching', 'denied', 'not_registered', 'unknown'];

function bestRegistration(...candidates: Array<Registration | null>): Registration | null {
  const present = candidates.filter((c): c is Registration => c !== null);
  return present.sort((a, b) => REGISTRATION_RANK.indexOf(a) - REGISTRATION_RANK.indexOf(b))[0] ?? null;
}
