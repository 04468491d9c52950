import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';

export interface SimulatedModemState {
  /** AT+CSQ rssi 0–31, 99 unknown. */
  rssi: number;
  /** 27.007 <stat>: 1 home, 5 roaming, 2 searching, 0 not registered, 3 denied. */
  registration: 0 | 1 | 2 | 3 | 4 | 5;
  operator: string;
  simInserted: boolean;
  /** Answers nothing at all (powered down, wedged). */
  silent: boolean;
}

export interface SentSms {
  to: string;
  text: string;
  reference: number;
}

const CTRL_Z = '\x1a';
const ESC = '\x1b';

/**
 * Answers AT commands on a serial device the way a SIM7670G does: echo until
 * ATE0, `\r\n<info>\r\n\r\nOK\r\n` framing, `+CME ERROR: n` with AT+CMEE=1,
 * the `> ` prompt for AT+CMGS and a message reference after Ctrl-Z. Tests can
 * inject line noise, unsolicited codes in the middle of an answer, and silence.
 */
export class Sim7670Simulator extends EventEmitter<{ sms: [SentSms] }> {
  readonly sent: SentSms[] = [];
  private state: SimulatedModemState = {
    rssi: 20,
    registration: 1,
    operator: 'Safaricom',
    simInserted: true,
    silent: false,
  };
  private echo = true;
  private textMode = false;
  private input = '';
  private smsTo: string | undefined;
  private reference = 0;
  private garbage: string[] = [];
  private urcs: string[] = [];

  private constructor(private readonly port: SerialPort) {
    super();
    port.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
  }

  static async open(path: string, baudRate = 115200): Promise<Sim7670Simulator> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    return new Sim7670Simulator(port);
  }

  set(state: Partial<SimulatedModemState>): void {
    this.state = { ...this.state, ...state };
  }

  /** Noise lines sent before the next answer. */
  injectGarbage(...lines: string[]): void {
    this.garbage.push(...lines);
  }

  /** Unsolicited codes sent between the next answer's information and its OK. */
  injectUrcDuringNextAnswer(...lines: string[]): void {
    this.urcs.push(...lines);
  }

  /** An unsolicited code now, e.g. `+CMTI: "SM",3`. */
  sendUrc(line: string): void {
    this.port.write(`\r\n${line}\r\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }

  private onData(text: string): void {
    if (this.state.silent) return;
    for (const char of text) {
      if (this.smsTo !== undefined) this.onSmsChar(char);
      else if (char === '\r') this.onCommand();
      else if (char !== '\n') this.input += char;
    }
  }

  private onCommand(): void {
    const command = this.input.trim();
    this.input = '';
    if (!command) return;
    if (this.echo) this.port.write(`${command}\r`);
    const answer = this.answer(command.toUpperCase().startsWith('AT+CMGS') ? command : command.toUpperCase());
    if (answer) this.reply(answer.info, answer.result);
  }

  private answer(command: string): { info: string[]; result: string } | undefined {
    const registered = this.state.registration === 1 || this.state.registration === 5;
    const ok = (...info: string[]) => ({ info, result: 'OK' });
    const simRequired = (...info: string[]) =>
      this.state.simInserted ? ok(...info) : { info: [], result: '+CME ERROR: 10' };
    const cmgs = /^AT\+CMGS="(\+?[0-9]+)"$/i.exec(command);
    if (cmgs) {
      if (!this.textMode) return { info: [], result: '+CMS ERROR: 302' };
      this.smsTo = cmgs[1];
      this.port.write('\r\n> ');
      return undefined;
    }
    switch (command) {
      case 'AT':
      case 'AT+CMEE=1':
        return ok();
      case 'ATE0':
        this.echo = false;
        return ok();
      case 'ATE1':
        this.echo = true;
        return ok();
      case 'AT+CMGF=1':
        this.textMode = true;
        return ok();
      case 'AT+CMGF=0':
        this.textMode = false;
        return ok();
      case 'AT+CPIN?':
        return simRequired('+CPIN: READY');
      case 'AT+CSQ':
        return ok(`+CSQ: ${this.state.rssi},99`);
      case 'AT+CREG?':
        return simRequired(`+CREG: 0,${this.state.registration}`);
      case 'AT+CEREG?':
        return simRequired(`+CEREG: 0,${this.state.registration}`);
      case 'AT+COPS?':
        return simRequired(registered ? `+COPS: 0,0,"${this.state.operator}",7` : '+COPS: 0');
      default:
        return { info: [], result: 'ERROR' };
    }
  }

  private onSmsChar(char: string): void {
    if (char === ESC) {
      this.smsTo = undefined;
      this.input = '';
      this.reply([], 'OK');
    } else if (char === CTRL_Z) {
      const to = this.smsTo!;
      const text = this.input;
      this.smsTo = undefined;
      this.input = '';
      const registered = this.state.registration === 1 || this.state.registration === 5;
      if (!registered || !this.state.simInserted) return this.reply([], '+CMS ERROR: 331'); // no network service
      const sms = { to, text, reference: ++this.reference };
      this.sent.push(sms);
      this.emit('sms', sms);
      this.reply([`+CMGS: ${sms.reference}`], 'OK');
    } else {
      this.input += char;
    }
  }

  private reply(info: string[], result: string): void {
    const noise = this.garbage.splice(0).map((line) => `${line}\r\n`);
    const urcs = this.urcs.splice(0).map((line) => `\r\n${line}\r\n`);
    const body = info.map((line) => `\r\n${line}\r\n`);
    this.port.write([...noise, ...body, ...urcs, `\r\n${result}\r\n`].join(''));
  }
}
