import { newId, type CommandResult } from '@tusafishe/protocol';
import type { GatewayEvents } from '../events.js';
import type { TechnicianGateway } from './kiosk-port.js';
import { GatewayError } from '../errors.js';

/** How long after the valve closes the dispenser's result may take to arrive. */
const RESULT_GRACE_MS = 5000;

function commandResult(events: GatewayEvents, commandId: string, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const listener = ({ result }: { result: CommandResult }): void => {
      if (result.command_id !== commandId) return;
      clearTimeout(timer);
      events.off('command-result', listener);
      resolve(result);
    };
    const timer = setTimeout(() => {
      events.off('command-result', listener);
      reject(new GatewayError('DISPENSER_SILENT'));
    }, timeoutMs);
    events.on('command-result', listener);
  });
}

/** Opens a dispenser's valve for `durationMs` and resolves with what its flow meter counted. */
export async function runValveTest(
  gateway: TechnicianGateway,
  dispenserId: string,
  durationMs: number,
): Promise<CommandResult> {
  const command = { command_id: newId(), type: 'valve_test', duration_ms: durationMs } as const;
  const result = commandResult(gateway.events, command.command_id, durationMs + RESULT_GRACE_MS);
  try {
    await gateway.sendCommand(dispenserId, command);
  } catch (error) {
    result.catch(() => undefined);
    throw error;
  }
  return result;
}
