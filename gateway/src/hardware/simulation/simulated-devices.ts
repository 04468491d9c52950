import type { Logger } from 'pino';
import type { HardwareConfig } from '../config.js';
import { SimulatedGpioChip } from '../gpio/simulated-gpio.js';
import { ModbusSensorSimulator } from '../modbus/modbus-sensor-simulator.js';
import { Sim7670Simulator } from '../modem/sim7670-simulator.js';
import { openPtyPair, socatAvailable } from '../serial/pty-pair.js';

export interface SimulatedDevices {
  chip: SimulatedGpioChip;
  sensors: ModbusSensorSimulator;
  modem: Sim7670Simulator | undefined;
  /** Where the real drivers find the simulators. */
  modbus: HardwareConfig['modbus'];
  modemConfig: HardwareConfig['modem'];
  close(): Promise<void>;
}

/**
 * Starts the simulators where the real drivers can reach them over their real
 * protocols: the Modbus slaves on one end of a pty pair (Modbus TCP on loopback
 * without socat) and the SIM7670G responder on another (no modem without socat).
 */
export async function startSimulatedDevices(config: HardwareConfig, logger: Logger): Promise<SimulatedDevices> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const sensors = new ModbusSensorSimulator(config.sensors);
    closers.push(() => sensors.close());
    const withPty = socatAvailable();
    let modbus: HardwareConfig['modbus'];
    if (withPty) {
      const pty = await openPtyPair();
      closers.push(() => pty.close());
      await sensors.serveRtu(pty.a, config.modbus.baudRate);
      modbus = { ...config.modbus, transport: 'rtu', path: pty.b };
    } else {
      const port = await sensors.serveTcp('127.0.0.1', 0);
      modbus = { ...config.modbus, transport: 'tcp', host: '127.0.0.1', port };
      logger.warn('socat not installed: simulated sensors on Modbus TCP loopback, no simulated modem');
    }
    let modem: Sim7670Simulator | undefined;
    let modemConfig: HardwareConfig['modem'] = { ...config.modem, path: '' };
    if (withPty) {
      const pty = await openPtyPair();
      closers.push(() => pty.close());
      modem = await Sim7670Simulator.open(pty.a, config.modem.baudRate);
      const opened = modem;
      closers.push(() => opened.close());
      modemConfig = { ...config.modem, path: pty.b };
    }
    return { chip: new SimulatedGpioChip(), sensors, modem, modbus, modemConfig, close };
  } catch (error) {
    await close();
    throw error;
  }
}
