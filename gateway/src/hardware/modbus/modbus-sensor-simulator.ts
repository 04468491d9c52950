import type { AddressInfo, Server } from 'node:net';
import { ServerSerial, ServerTCP } from 'modbus-serial';
import type { SensorSpec } from '../config.js';
import { valueToRegister } from './sensor-reading.js';

type RegisterCallback = (err: Error | null, value: number) => void;

/**
 * The RS-485 sensors of a kiosk as Modbus slaves: each configured sensor answers
 * at its own unit address and register with its value encoded by its own scale,
 * over real Modbus RTU (a serial device, e.g. one end of a pty pair) or Modbus
 * TCP. A silenced sensor does not answer at all, as an unplugged one would not.
 */
export class ModbusSensorSimulator {
  private readonly values = new Map<string, number>();
  private readonly silenced = new Set<string>();
  private readonly servers: Array<ServerSerial | ServerTCP> = [];

  constructor(private readonly sensors: Readonly<Record<string, SensorSpec>>) {}

  set(sensor: string, value: number): void {
    this.spec(sensor);
    this.values.set(sensor, value);
  }

  value(sensor: string): number | undefined {
    return this.values.get(sensor);
  }

  silence(sensor: string, silent = true): void {
    this.spec(sensor);
    if (silent) this.silenced.add(sensor);
    else this.silenced.delete(sensor);
  }

  /** Serves Modbus RTU on a serial device (all unit addresses on one bus). */
  async serveRtu(path: string, baudRate: number): Promise<void> {
    const server = await new Promise<ServerSerial>((resolve, reject) => {
      const created: ServerSerial = new ServerSerial(this.vector(), {
        path,
        baudRate,
        unitID: 255,
        openCallback: (error) => (error ? reject(error) : resolve(created)),
      });
    });
    this.servers.push(server);
  }

  /** Serves Modbus TCP on host:port (0 = any free port); resolves to the bound port. */
  async serveTcp(host: string, port = 0): Promise<number> {
    const server = new ServerTCP(this.vector(), { host, port, unitID: 255 });
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', reject);
    });
    this.servers.push(server);
    // ServerTCP keeps its net.Server private; the bound port is only known there.
    return ((server as unknown as { _server: Server })._server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private vector() {
    const answer = (fn: SensorSpec['function']) => (addr: number, unitID: number, cb: RegisterCallback) => {
      const raw = this.register(fn, unitID, addr);
      if (raw !== undefined) cb(null, raw);
      // else: no callback, so no response frame: the master times out.
    };
    return { getHoldingRegister: answer('holding'), getInputRegister: answer('input') };
  }

  private register(fn: SensorSpec['function'], unitID: number, addr: number): number | undefined {
    for (const [sensor, spec] of Object.entries(this.sensors)) {
      if (spec.address !== unitID || spec.register !== addr || spec.function !== fn) continue;
      const value = this.values.get(sensor);
      if (this.silenced.has(sensor) || value === undefined) return undefined;
      return valueToRegister(value, spec);
    }
    return undefined;
  }

  private spec(sensor: string): SensorSpec {
    const spec = this.sensors[sensor];
    if (!spec) throw new Error(`no sensor ${sensor} in the register map`);
    return spec;
  }
}
