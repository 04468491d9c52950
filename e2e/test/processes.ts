import { readdirSync, readFileSync } from 'node:fs';

/** The demo's listening ports, every one chosen by the OS (`npm start` prints what it got). */
export const DEMO_PORTS_FREE = {
  CLOUD_PORT: '0',
  GATEWAY_HTTP_PORT: '0',
  GATEWAY_MQTT_PORT: '0',
  MTN_SIMULATOR_PORT: '0',
  AIRTEL_SIMULATOR_PORT: '0',
  MPESA_SIMULATOR_PORT: '0',
};

/** A process's parent and state from /proc (Linux), or null once it is gone. */
function procStat(pid: number): { ppid: number; state: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), state: state! };
  } catch {
    return null;
  }
}

/** Every process below `pid` (children, their children, …). */
export function descendants(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const below: number[] = [];
  for (let parents = [pid]; parents.length > 0; ) {
    const children = all.filter((other) => parents.includes(procStat(other)?.ppid ?? -1));
    below.push(...children);
    parents = children;
  }
  return below;
}

/** Those of `pids` still running: gone, or a zombie its dead parent left for init to reap, is not. */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => (procStat(pid)?.state ?? 'Z') !== 'Z');
}
