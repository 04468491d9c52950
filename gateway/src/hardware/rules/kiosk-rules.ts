import type { DenialCode } from '@tusafishe/protocol';
import type { HardwareConfig, SensorSpec } from '../config.js';
import type { KioskInputs, KioskOutputs, LineFault } from '../gpio/kiosk-io.js';
import { inOkRange, type SensorReading } from '../modbus/sensor-reading.js';
import type { ModemStatus } from '../modem/modem-monitor.js';

/** Everything the rules look at, as it is right now. */
export interface KioskObservation {
  sensors: Readonly<Record<string, SensorSpec>>;
  /** Latest reading per sensor id; absent until the first poll. */
  readings: ReadonlyMap<string, SensorReading>;
  inputs: KioskInputs;
  outputs: KioskOutputs;
  /** GPIO lines that cannot be used; their inputs already read fail-safe, their relays off. */
  gpioFaults?: readonly LineFault[];
  modem: ModemStatus;
}

/** A condition that holds now; the alert book turns its appearance and disappearance into alerts. */
export interface Condition {
  /** Stable identity: `tank_low`, `water_quality:turbidity`, `sensor_silent:turbidity`, … */
  key: string;
  severity: 'critical' | 'warning';
  message: string;
  details: Record<string, unknown>;
}

export interface RulesOutcome {
  /** The feed pump relay as it should be now. */
  pumpOn: boolean;
  /** Why no dispense may be approved now, or null. */
  denial: DenialCode | null;
  conditions: Condition[];
}

type Rules = HardwareConfig['rules'];

/**
 * The kiosk's rules, pure. Dispenses are refused, most fundamental first:
 * TANK_LOW (level below tankLowPct, or the low float dry: either source is
 * enough), UV_FAULT (lamp switched off, or its ballast reports a fault),
 * WATER_QUALITY (a quality sensor out of its range, silent, or not read yet:
 * water of unknown quality is not sold).
 */
export function evaluateKiosk(observation: KioskObservation, rules: Rules): RulesOutcome {
  const tankLow = tankLowCondition(observation, rules);
  const uv = uvCondition(observation);
  const quality = qualityConditions(observation, rules.unknownQualityBlocks);
  const denial: DenialCode | null = tankLow ? 'TANK_LOW' : uv ? 'UV_FAULT' : quality.unsafe ? 'WATER_QUALITY' : null;
  const conditions = [
    tankLow,
    uv,
    ...quality.conditions,
    ...silentConditions(observation),
    ...gpioFaultConditions(observation),
    ...switchConditions(observation),
  ];
  return {
    pumpOn: decidePump(observation.outputs.pumpOn, tankLevel(observation), observation.inputs, rules),
    denial,
    conditions: conditions.filter((c): c is Condition => c !== undefined),
  };
}

/**
 * Feed pump with hysteresis: starts below pumpOnBelowPct, runs until
 * pumpOffAbovePct. Without a level reading it runs from the low float going dry
 * to the high float. Whatever the level, it stops when the high float is up
 * (overflow) and never runs while the source is dry (dry-running burns it out).
 */
export function decidePump(running: boolean, levelPct: number | null, inputs: KioskInputs, rules: Rules): boolean {
  if (inputs.sourceLow === true || inputs.tankHighFloat) return false;
  if (levelPct === null) return running || !inputs.tankLowFloat;
  if (levelPct < rules.pumpOnBelowPct) return true;
  if (levelPct >= rules.pumpOffAbovePct) return false;
  return running;
}

/** Level from the tank_level sensor; null without one or while it is silent. */
export function tankLevel(observation: KioskObservation): number | null {
  for (const [id, spec] of Object.entries(observation.sensors)) {
    if (spec.kind !== 'tank_level') continue;
    const reading = observation.readings.get(id);
    return reading?.status === 'ok' ? reading.value : null;
  }
  return null;
}

function tankLowCondition(observation: KioskObservation, rules: Rules): Condition | undefined {
  const levelPct = tankLevel(observation);
  const floatDry = !observation.inputs.tankLowFloat;
  if (levelPct !== null && levelPct < rules.tankLowPct) {
    return critical('tank_low', `Tank low: ${levelPct}% (low mark ${rules.tankLowPct}%)`, { levelPct, floatDry });
  }
  if (floatDry) return critical('tank_low', 'Tank low: low float switch is dry', { levelPct, floatDry });
  return undefined;
}

function uvCondition({ inputs, outputs }: KioskObservation): Condition | undefined {
  if (!outputs.uvLampOn)
    return critical('uv_fault', 'UV lamp is switched off', { lampOn: false, fault: inputs.uvFault ?? null });
  if (inputs.uvFault)
    return critical('uv_fault', 'UV lamp fault reported by its ballast', { lampOn: true, fault: true });
  return undefined;
}

function qualityConditions(
  observation: KioskObservation,
  unknownBlocks: boolean,
): { unsafe: boolean; conditions: Condition[] } {
  let unsafe = false;
  const conditions: Condition[] = [];
  for (const [sensor, spec] of Object.entries(observation.sensors)) {
    if (spec.kind !== 'quality') continue;
    const reading = observation.readings.get(sensor);
    if (reading?.status !== 'ok') {
      // Silent or not read yet: unknown water (the silent alert is raised below); blocks unless the kiosk says otherwise.
      if (unknownBlocks) unsafe = true;
      continue;
    }
    if (inOkRange(reading.value, spec)) continue;
    unsafe = true;
    const range = `${spec.okMin ?? '-∞'}–${spec.okMax ?? '∞'} ${spec.unit}`;
    conditions.push(
      critical(`water_quality:${sensor}`, `${sensor} ${reading.value} ${spec.unit} outside ${range}`, {
        sensor,
        value: reading.value,
        unit: spec.unit,
        okMin: spec.okMin ?? null,
        okMax: spec.okMax ?? null,
      }),
    );
  }
  return { unsafe, conditions };
}

function silentConditions(observation: KioskObservation): Condition[] {
  return [...observation.readings.values()].flatMap((reading) =>
    reading.status === 'silent'
      ? [
          warning(`sensor_silent:${reading.sensor}`, `${reading.sensor} sensor not answering: ${reading.error}`, {
            sensor: reading.sensor,
            error: reading.error,
          }),
        ]
      : [],
  );
}

/** A GPIO line that cannot be used is a hardware fault: critical, one alert per line. */
function gpioFaultConditions({ gpioFaults = [] }: KioskObservation): Condition[] {
  return gpioFaults.map(({ line, pin, error }) =>
    critical(`gpio_fault:${line}`, `Hardware fault: GPIO ${pin} (${line}) unusable: ${error}`, { line, pin, error }),
  );
}

function switchConditions({ inputs, modem, gpioFaults = [] }: KioskObservation): Condition[] {
  const conditions: Condition[] = [];
  const faulty = new Set(gpioFaults.map((f) => f.line));
  if (inputs.doorOpen) conditions.push(warning('door_open', 'Kiosk door open', {}));
  // A faulty source switch reads dry (pump off) but says nothing about the source: its fault alert says why.
  if (inputs.sourceLow && !faulty.has('sourceLow'))
    conditions.push(warning('source_low', 'Feed source dry: pump held off', {}));
  if (modem.state !== 'not_fitted' && !modem.registered) {
    const why =
      modem.state === 'ok'
        ? `registration ${modem.registration ?? 'unknown'}, SIM ${modem.sim ?? 'unknown'}`
        : modem.state;
    conditions.push(
      warning('modem_unregistered', `4G modem not registered (${why})`, {
        state: modem.state,
        registration: modem.registration,
        sim: modem.sim,
        rssiDbm: modem.rssiDbm,
      }),
    );
  }
  return conditions;
}

function critical(key: string, message: string, details: Record<string, unknown>): Condition {
  return { key, severity: 'critical', message, details };
}

function warning(key: string, message: string, details: Record<string, unknown>): Condition {
  return { key, severity: 'warning', message, details };
}
