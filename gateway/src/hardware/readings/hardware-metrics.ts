import { Gauge, type Registry } from 'prom-client';
import type { HardwareSnapshot } from '../hardware-snapshot.js';

/**
 * Prometheus gauges of the kiosk hardware, read from a fresh snapshot at each
 * scrape (nothing to keep in step between scrapes).
 */
export function registerHardwareMetrics(registry: Registry, snapshot: () => HardwareSnapshot): void {
  let current: HardwareSnapshot | undefined;
  // One snapshot per scrape, shared by every gauge's collect().
  const read = (): HardwareSnapshot => {
    current ??= snapshot();
    queueMicrotask(() => (current = undefined));
    return current;
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        collect(this);
      },
    });

  gauge('tusafishe_hw_sensor_value', 'Latest sensor reading in its unit', ['sensor', 'unit'], (g) => {
    for (const s of read().sensors) if (s.value !== null) g.set({ sensor: s.sensor, unit: s.unit }, s.value);
  });
  gauge('tusafishe_hw_sensor_up', '1 if the sensor answered its last poll', ['sensor'], (g) => {
    for (const s of read().sensors) g.set({ sensor: s.sensor }, s.status === 'ok' ? 1 : 0);
  });
  gauge('tusafishe_hw_sensor_in_range', '1 if the latest reading is within its ok range', ['sensor'], (g) => {
    for (const s of read().sensors) if (s.inRange !== null) g.set({ sensor: s.sensor }, s.inRange ? 1 : 0);
  });
  gauge('tusafishe_hw_switch', 'Relays and switches (1 = on/open/wet)', ['name'], (g) => {
    const s = read();
    g.set({ name: 'pump' }, Number(s.pump.on));
    g.set({ name: 'uv_lamp' }, Number(s.uvLamp.on));
    g.set({ name: 'door_open' }, Number(s.door.open));
    g.set({ name: 'tank_low_float_wet' }, Number(s.tank.lowFloatWet));
    g.set({ name: 'tank_high_float_wet' }, Number(s.tank.highFloatWet));
  });
  gauge('tusafishe_hw_modem_rssi_dbm', 'Modem signal strength', [], (g) => {
    const rssi = read().modem.rssiDbm;
    if (rssi !== null) g.set(rssi);
  });
  gauge('tusafishe_hw_modem_registered', '1 if the modem is registered on a network', [], (g) => {
    g.set(Number(read().modem.registered));
  });
  gauge('tusafishe_hw_interlock', '1 for the denial reason dispenses get now', ['code'], (g) => {
    const denial = read().interlock;
    for (const code of ['TANK_LOW', 'UV_FAULT', 'WATER_QUALITY'] as const) g.set({ code }, Number(denial === code));
  });
  gauge('tusafishe_hw_alerts_active', 'Active hardware alerts by severity', ['severity'], (g) => {
    const alerts = read().alerts;
    for (const severity of ['critical', 'warning'] as const) {
      g.set({ severity }, alerts.filter((a) => a.severity === severity).length);
    }
  });
}
