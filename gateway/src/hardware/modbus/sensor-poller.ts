import { EventEmitter } from 'node:events';
import ModbusSerial from 'modbus-serial';
import type { Logger } from 'pino';
import type { HardwareConfig, SensorSpec } from '../config.js';
import { registerToValue, type SensorReading } from './sensor-reading.js';

// modbus-serial is CommonJS whose typings declare the client as `default`.
const ModbusRTU = ModbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

/**
 * Polls every configured sensor on the RS-485 bus (Modbus RTU) or behind a
 * Modbus TCP gateway, one transaction at a time (the bus is half-duplex), each
 * with a timeout and retries. A sensor that gives no valid answer is reported
 * silent; a bus that cannot be opened makes every sensor silent and is retried
 * on the next poll.
 */
export class SensorPoller extends EventEmitter<{ reading: [SensorReading]; cycle: [SensorReading[]] }> {
  private client: ModbusRTU | undefined;
  private readonly latestReadings = new Map<string, SensorReading>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<SensorReading[]> | undefined;
  private closed = false;

  constructor(
    private readonly bus: HardwareConfig['modbus'],
    private readonly sensors: Readonly<Record<string, SensorSpec>>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Polls now, then every pollIntervalMs after each poll ends. */
  start(): Promise<SensorReading[]> {
    const first = this.pollOnce();
    void first.catch(() => undefined).finally(() => this.schedule());
    return first;
  }

  /** Latest reading per sensor id (absent until its first poll). */
  latest(): ReadonlyMap<string, SensorReading> {
    return new Map(this.latestReadings);
  }

  /** One pass over all sensors; concurrent callers share the pass in progress. */
  pollOnce(): Promise<SensorReading[]> {
    this.inFlight ??= this.pollAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()));
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.pollOnce()
        .catch((error: unknown) => this.logger.error({ err: error }, 'sensor poll failed'))
        .finally(() => this.schedule());
    }, this.bus.pollIntervalMs);
  }

  private async pollAll(): Promise<SensorReading[]> {
    const readings: SensorReading[] = [];
    const connectError = await this.connect();
    for (const [sensor, spec] of Object.entries(this.sensors)) {
      if (this.closed) break;
      const reading = connectError ? this.silent(sensor, spec, connectError) : await this.readSensor(sensor, spec);
      const previous = this.latestReadings.get(sensor);
      if (reading.status === 'silent' && previous?.status !== 'silent') {
        this.logger.warn({ sensor, error: reading.error }, 'sensor silent');
      }
      this.latestReadings.set(sensor, reading);
      this.guarded('reading', () => this.emit('reading', reading));
      readings.push(reading);
    }
    this.guarded('cycle', () => this.emit('cycle', readings));
    return readings;
  }

  /** A failing listener (e.g. the readings store on a full disk) is logged; polling goes on. */
  private guarded(event: 'reading' | 'cycle', emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.logger.error({ err: error, event }, 'sensor reading listener failed');
    }
  }

  private async readSensor(sensor: string, spec: SensorSpec): Promise<SensorReading> {
    const client = this.client!;
    let lastError = 'no answer';
    for (let attempt = 0; attempt <= this.bus.retries; attempt++) {
      try {
        client.setID(spec.address);
        const result =
          spec.function === 'input'
            ? await client.readInputRegisters(spec.register, 1)
            : await client.readHoldingRegisters(spec.register, 1);
        const raw = result.data[0];
        if (raw === undefined) throw new Error('empty response');
        return { sensor, status: 'ok', value: registerToValue(raw, spec), unit: spec.unit, at: this.now() };
      } catch (error) {
        lastError = describeModbusError(error);
        if (!client.isOpen) break;
      }
    }
    return this.silent(sensor, spec, lastError);
  }

  private silent(sensor: string, spec: SensorSpec, error: string): SensorReading {
    return { sensor, status: 'silent', value: null, unit: spec.unit, at: this.now(), error };
  }

  /** Opens the bus if needed; returns why it could not be opened. */
  private async connect(): Promise<string | undefined> {
    if (this.client?.isOpen) return undefined;
    const client = new ModbusRTU();
    client.on('error', (error: unknown) => this.logger.warn({ err: error }, 'modbus bus error'));
    try {
      if (this.bus.transport === 'tcp') {
        await client.connectTCP(this.bus.host, { port: this.bus.port, timeout: this.bus.timeoutMs });
      } else {
        await client.connectRTUBuffered(this.bus.path, { baudRate: this.bus.baudRate, parity: this.bus.parity });
      }
    } catch (error) {
      const where = this.bus.transport === 'tcp' ? `${this.bus.host}:${this.bus.port}` : this.bus.path;
      return `cannot open Modbus ${this.bus.transport} ${where}: ${describeModbusError(error)}`;
    }
    client.setTimeout(this.bus.timeoutMs);
    this.client = client;
    return undefined;
  }
}

function describeModbusError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { message, modbusCode } = error as { message?: string; modbusCode?: number };
    if (typeof modbusCode === 'number') return `Modbus exception ${modbusCode}: ${message ?? ''}`.trim();
    if (typeof message === 'string') return message;
  }
  return String(error);
}
