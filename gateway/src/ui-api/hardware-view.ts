import type { HardwareApi } from '../hardware/api/hardware-routes.js';
import type { HardwareSnapshot } from '../hardware/hardware-snapshot.js';
import type { HardwareView, Usage } from './api-schemas.js';

/** Points on the tank chart: enough for a smooth line, few enough for a phone. */
const TANK_POINTS = 96;

/** What the overview shows of the hardware module's snapshot. */
export function hardwareView(snapshot: HardwareSnapshot): HardwareView {
  const quality = snapshot.sensors.filter((sensor) => sensor.kind === 'quality');
  const { modem } = snapshot;
  return {
    mode: snapshot.mode,
    tank: {
      level_percent: snapshot.tank.levelPct,
      low_float_wet: snapshot.tank.lowFloatWet,
      high_float_wet: snapshot.tank.highFloatWet,
    },
    water_quality: {
      // A silent or not-yet-read sensor is not OK: the interlock refuses water then too.
      ok: quality.length === 0 ? null : quality.every((sensor) => sensor.status === 'ok' && sensor.inRange === true),
      readings: quality.map((sensor) => ({
        sensor: sensor.sensor,
        value: sensor.value,
        unit: sensor.unit,
        in_range: sensor.inRange,
        status: sensor.status,
      })),
    },
    pump: snapshot.pump.on ? 'on' : 'off',
    uv: snapshot.uvLamp.fault ? 'fault' : snapshot.uvLamp.on ? 'on' : 'off',
    door: snapshot.door.open ? 'open' : 'closed',
    modem:
      modem.state === 'not_fitted'
        ? null
        : { state: modem.state, registered: modem.registered, signal_dbm: modem.rssiDbm, operator: modem.operator },
    interlock: snapshot.interlock,
    alerts: snapshot.alerts.map((alert) => ({
      code: alert.key,
      severity: alert.severity,
      message: alert.message,
      since: alert.raisedAt,
    })),
  };
}

/** Tank level over [from, to) from the hardware readings, or null without a tank sensor or stored readings. */
export function tankSeries(hardware: HardwareApi, from: number, to: number): Usage['tank'] {
  const tank = hardware.snapshot().sensors.find((sensor) => sensor.kind === 'tank_level');
  if (!tank) return null;
  const bucketMs = Math.max(1000, Math.ceil((to - from) / TANK_POINTS));
  const points = hardware.series({ sensor: tank.sensor, since: from, until: to - 1, bucketMs, limit: TANK_POINTS + 1 });
  return points?.map((point) => ({ at: point.at, percent: Math.round(point.value * 10) / 10 })) ?? null;
}
