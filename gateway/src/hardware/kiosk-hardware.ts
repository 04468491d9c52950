import type Database from 'better-sqlite3';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DenialCode } from '@tusafishe/protocol';
import { devSmsWriter } from '@tusafishe/protocol/dev-sms';
import { AlertBook, type AlertChange, type HardwareAlert } from './alerts/alert-book.js';
import { SmsAlerter } from './alerts/sms-alerter.js';
import { hardwareRoutes, type HardwareApi } from './api/hardware-routes.js';
import { resolveHardwareConfig, type HardwareConfig, type HardwareConfigInput } from './config.js';
import type { GpioChip } from './gpio/gpio-line.js';
import { KioskIo } from './gpio/kiosk-io.js';
import { openOnoffChip } from './gpio/onoff-gpio.js';
import type { HardwareSnapshot, SensorSnapshot } from './hardware-snapshot.js';
import { inOkRange } from './modbus/sensor-reading.js';
import { SensorPoller } from './modbus/sensor-poller.js';
import { ModemMonitor } from './modem/modem-monitor.js';
import type { SentSms } from './modem/sim7670-simulator.js';
import { registerHardwareMetrics } from './readings/hardware-metrics.js';
import { ReadingsStore, type ReadingPoint, type SeriesQuery } from './readings/readings-store.js';
import { evaluateKiosk, tankLevel, type Condition, type KioskObservation } from './rules/kiosk-rules.js';
import { SimulatedKiosk } from './simulation/simulated-kiosk.js';
import { startSimulatedDevices } from './simulation/simulated-devices.js';

export interface KioskHardwareDeps {
  /** The gateway's database (migration 100 applied); without it readings are not kept. */
  db?: Database.Database;
  logger: Logger;
  /** Every alert raised or cleared; the gateway turns them into ledger notices (see alertLedgerEvent). */
  onAlert(change: AlertChange): void;
  /** Whether the cloud answered recently; alerts go by SMS only after it has not for a while. */
  isCloudReachable(): boolean;
  now?(): number;
  /** Named in alert SMS. */
  kioskId?: string;
  /** Conditions of the gateway outside the hardware (e.g. storage full), alerted like the kiosk's own. */
  extraConditions?(): Condition[];
}

export interface KioskHardware extends HardwareApi {
  readonly mode: 'hardware' | 'simulated';
  /** A DispenseInterlock: the reason no dispense may be approved now, or null. */
  interlock(): DenialCode | null;
  snapshot(): HardwareSnapshot;
  activeAlerts(): HardwareAlert[];
  /** GET /api/hardware and GET /api/hardware/readings, behind `onRequest` (e.g. the technician guard) when given. */
  registerRoutes(app: FastifyInstance, options?: { onRequest?: onRequestHookHandler }): Promise<void>;
  /** tusafishe_hw_* gauges on the given registry. */
  collectMetrics(registry: Registry): void;
  /** Technician switch (lamp maintenance); a lamp switched off is a UV_FAULT. */
  setUvLamp(on: boolean): void;
  /** Runs the rules now (they also run after every sensor poll, on every switch or modem change, and every rules.evaluateIntervalMs). */
  evaluate(): Promise<void>;
  /** The simulated kiosk behind the simulators, in simulated mode. */
  readonly simulation: SimulatedKiosk | undefined;
  close(): Promise<void>;
}

/**
 * Starts the kiosk hardware: GPIO relays and switches, the RS-485 sensors, the
 * 4G modem, the rules over them and the readings store. In `simulated` mode
 * (only when asked) every device is a simulator reached over its real
 * protocol, with a simulated tank and water that change on their own; in
 * `hardware` mode a device that cannot be reached is a fault, never simulated.
 */
export async function startKioskHardware(
  input: HardwareConfig | HardwareConfigInput,
  deps: KioskHardwareDeps,
): Promise<KioskHardware> {
  const config = resolveHardwareConfig(input);
  const logger = deps.logger.child({ part: 'hardware' });
  const now = deps.now ?? Date.now;
  const mode = config.mode === 'simulated' ? 'simulated' : 'hardware';

  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    let chip: GpioChip;
    let modbus = config.modbus;
    let modemConfig = config.modem;
    let simulation: SimulatedKiosk | undefined;
    if (mode === 'simulated') {
      const devices = await startSimulatedDevices(config, logger);
      closers.push(() => devices.close());
      ({ chip, modbus, modemConfig } = devices);
      simulation = new SimulatedKiosk(config, devices.chip, devices.sensors, devices.modem);
      closers.push(() => simulation?.stop());
      const { smsFd } = config.simulation;
      if (smsFd !== undefined && devices.modem) {
        const modem = devices.modem;
        const write = devSmsWriter(smsFd);
        const copy = (sms: SentSms) => write({ phone: sms.to, message: sms.text });
        modem.on('sms', copy);
        closers.push(() => void modem.off('sms', copy));
      }
      logger.warn('kiosk hardware SIMULATED: GPIO, Modbus sensors and 4G modem are simulators');
    } else {
      // Never a simulator in its place: unreachable GPIO is a fault the rules and alerts see.
      chip = await openOnoffChip(config.gpio.base);
    }

    const io = new KioskIo(chip, config.gpio);
    closers.push(() => io.close());
    io.setUvLamp(true); // the lamp runs whenever the kiosk is in service
    const store = deps.db ? new ReadingsStore(deps.db, config.readings) : undefined;
    // Closed after the poller (closers run newest first): the buckets still open are written last.
    if (store) closers.push(() => store.close());
    const poller = new SensorPoller(modbus, config.sensors, logger, now);
    closers.push(() => poller.close());
    const modem = new ModemMonitor(modemConfig, logger, now);
    closers.push(() => modem.close());
    if (store) poller.on('reading', (reading) => store.record(reading));

    const hardware = new KioskHardwareService(
      config,
      mode,
      { io, poller, modem, store, simulation, closeAll },
      { ...deps, logger, now },
    );
    await Promise.all([poller.start(), modem.start()]);
    await hardware.evaluate();
    simulation?.start();
    const timer = setInterval(() => void hardware.evaluate(), config.rules.evaluateIntervalMs);
    closers.push(() => clearInterval(timer));
    const evaluateSoon = () => void hardware.evaluate();
    io.on('input', evaluateSoon);
    poller.on('cycle', evaluateSoon);
    modem.on('status', evaluateSoon);
    logger.info(
      { mode, gpio: chip.kind, modbus: modbus.transport, modem: modemConfig.path || 'not fitted' },
      'kiosk hardware started',
    );
    return hardware;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

interface Parts {
  io: KioskIo;
  poller: SensorPoller;
  modem: ModemMonitor;
  store: ReadingsStore | undefined;
  simulation: SimulatedKiosk | undefined;
  /** Stops and releases every part, newest first. */
  closeAll(): Promise<void>;
}

class KioskHardwareService implements KioskHardware {
  private readonly book = new AlertBook();
  private readonly loggedFaults = new Set<string>();
  private readonly sms: SmsAlerter;
  private closed = false;

  constructor(
    private readonly config: HardwareConfig,
    readonly mode: 'hardware' | 'simulated',
    private readonly parts: Parts,
    private readonly deps: KioskHardwareDeps & { now(): number },
  ) {
    this.sms = new SmsAlerter(config.alerts, {
      send: (to, text) => parts.modem.sendSms(to, text),
      isCloudReachable: deps.isCloudReachable,
      now: deps.now,
      logger: deps.logger,
      kioskLabel: `Tusafishe ${deps.kioskId ?? 'kiosk'}`,
    });
  }

  get simulation(): SimulatedKiosk | undefined {
    return this.parts.simulation;
  }

  /** Bound, so it can be registered as it is: `gateway.interlocks.add(hardware.interlock)`. */
  readonly interlock = (): DenialCode | null => evaluateKiosk(this.observe(), this.config.rules).denial;

  async evaluate(): Promise<void> {
    if (this.closed) return;
    const observation = this.observe();
    const outcome = evaluateKiosk(observation, this.config.rules);
    for (const fault of this.parts.io.faults()) {
      if (this.loggedFaults.has(fault.line)) continue;
      this.loggedFaults.add(fault.line);
      this.deps.logger.error(fault, 'GPIO line fault: reading it as unknown (fail-safe)');
    }
    if (outcome.pumpOn !== observation.outputs.pumpOn) {
      this.parts.io.setPump(outcome.pumpOn);
      this.deps.logger.info({ pumpOn: outcome.pumpOn, tank: tankLevel(observation) }, 'feed pump switched');
    }
    const conditions = [...outcome.conditions, ...(this.deps.extraConditions?.() ?? [])];
    for (const change of this.book.update(conditions, this.deps.now())) {
      const { alert } = change;
      this.deps.logger[alert.severity === 'critical' ? 'warn' : 'info'](
        { alert: alert.key, message: alert.message },
        `alert ${change.kind}`,
      );
      try {
        this.deps.onAlert(change);
      } catch (error) {
        this.deps.logger.error({ err: error, alert: alert.key }, 'alert handler failed');
      }
      this.sms.onChange(change);
    }
    await this.sms.tick();
  }

  activeAlerts(): HardwareAlert[] {
    return this.book.active();
  }

  snapshot(): HardwareSnapshot {
    const observation = this.observe();
    const { inputs, outputs } = observation;
    const levelPct = tankLevel(observation);
    const capacity = this.config.tankCapacityLitres;
    return {
      at: this.deps.now(),
      mode: this.mode,
      gpio: this.parts.io.chip.kind,
      tank: {
        levelPct,
        litres: levelPct === null || !capacity ? null : Math.round((levelPct / 100) * capacity),
        lowFloatWet: inputs.tankLowFloat,
        highFloatWet: inputs.tankHighFloat,
      },
      pump: { on: outputs.pumpOn },
      uvLamp: { on: outputs.uvLampOn, fault: inputs.uvFault ?? null },
      door: { open: inputs.doorOpen },
      sourceLow: inputs.sourceLow ?? null,
      sensors: this.sensorSnapshots(observation),
      modem: observation.modem,
      interlock: evaluateKiosk(observation, this.config.rules).denial,
      alerts: this.book.active(),
    };
  }

  series(query: SeriesQuery): ReadingPoint[] | undefined {
    return this.parts.store?.series(query);
  }

  sensorIds(): string[] {
    return Object.keys(this.config.sensors);
  }

  async registerRoutes(app: FastifyInstance, options: { onRequest?: onRequestHookHandler } = {}): Promise<void> {
    await app.register(hardwareRoutes, { hardware: this, now: this.deps.now, onRequest: options.onRequest });
  }

  collectMetrics(registry: Registry): void {
    registerHardwareMetrics(registry, () => this.snapshot());
  }

  setUvLamp(on: boolean): void {
    this.parts.io.setUvLamp(on);
    void this.evaluate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.parts.closeAll();
  }

  private observe(): KioskObservation {
    const { io, poller, modem } = this.parts;
    return {
      sensors: this.config.sensors,
      readings: poller.latest(),
      inputs: io.inputState(),
      outputs: io.outputState(),
      gpioFaults: io.faults(),
      modem: modem.status(),
    };
  }

  private sensorSnapshots(observation: KioskObservation): SensorSnapshot[] {
    return Object.entries(this.config.sensors).map(([sensor, spec]) => {
      const reading = observation.readings.get(sensor);
      const value = reading?.status === 'ok' ? reading.value : null;
      return {
        sensor,
        kind: spec.kind,
        status: reading?.status ?? 'pending',
        value,
        unit: spec.unit,
        okMin: spec.okMin ?? null,
        okMax: spec.okMax ?? null,
        inRange: value === null ? null : inOkRange(value, spec),
        at: reading?.at ?? null,
        error: reading?.status === 'silent' ? reading.error : null,
      };
    });
  }
}
