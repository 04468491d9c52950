/**
 * A dispenser in the terminal: the 20×4 LCD in a box, the keyboard as keypad.
 *
 *   npm run dispenser -- D1 [--data-dir ./data] [--mqtt-url mqtt://127.0.0.1:1883]
 *                          [--password SECRET] [--flow-rate 200] [--standalone]
 *
 * If `npm start` is running, it attaches to that kiosk's simulated dispenser through its
 * control endpoint (a second MQTT client with the same id would kick the first off the
 * broker). Otherwise it boots its own simulated dispenser against the gateway at
 * --mqtt-url ($MQTT_URL, else port $GATEWAY_MQTT_PORT or 1883 on 127.0.0.1), with the password from --password, $DISPENSER_PASSWORD or the gateway's
 * <data-dir>/demo-credentials.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { DispenserId, LCD_COLUMNS, describeIssues } from '@tusafishe/protocol';
import { attachToControlEndpoint } from './control-endpoint.js';
import type { DispenserPanel } from './dispenser-panel.js';
import {
  controlFile,
  readDemoCredentials,
  simulatedDispenserDataDir,
  startSimulatedDispenser,
} from './simulated-dispenser.js';

z.config(en());

const Options = z.object({
  id: DispenserId,
  dataDir: z.string().check(z.minLength(1)),
  mqttUrl: z.string().check(z.regex(/^mqtts?:\/\/.+/)),
  /** The fleet CA file (PEM) for an `mqtts://` broker. */
  mqttCa: z.optional(z.string().check(z.minLength(1))),
  password: z.optional(z.string().check(z.minLength(1))),
  flowRate: z.number().check(z.minimum(1), z.maximum(100_000)),
  standalone: z.boolean(),
});
type Options = z.infer<typeof Options>;

function readOptions(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      'mqtt-url': { type: 'string' },
      'mqtt-ca': { type: 'string' },
      password: { type: 'string' },
      'flow-rate': { type: 'string' },
      standalone: { type: 'boolean', default: false },
    },
  });
  const parsed = Options.safeParse({
    id: positionals[0] ?? 'D1',
    dataDir: values['data-dir'] ?? process.env.DATA_DIR ?? './data',
    mqttUrl: values['mqtt-url'] ?? process.env.MQTT_URL ?? `mqtt://127.0.0.1:${process.env.GATEWAY_MQTT_PORT ?? 1883}`,
    mqttCa: values['mqtt-ca'] ?? process.env.MQTT_CA_FILE,
    password: values.password ?? process.env.DISPENSER_PASSWORD,
    flowRate: Number(values['flow-rate'] ?? 200),
    standalone: values.standalone,
  });
  if (!parsed.success) {
    console.error(`terminal dispenser: ${describeIssues(parsed.error.issues)}`);
    process.exit(2);
  }
  return parsed.data;
}

interface Session {
  panel: DispenserPanel;
  source: string;
  close(): Promise<void>;
}

async function openPanel(options: Options): Promise<Session> {
  const dataDir = simulatedDispenserDataDir(options.dataDir, options.id);
  if (!options.standalone) {
    const attached = await attachToControlEndpoint(controlFile(dataDir));
    if (attached) {
      attached.closed.then(() => quit(`${options.id} went away (kiosk stopped)`));
      return {
        panel: attached,
        source: `attached to the running kiosk's ${options.id}`,
        close: async () => attached.close(),
      };
    }
  }
  const password = options.password ?? demoPassword(options);
  const dispenser = await startSimulatedDispenser({
    id: options.id,
    password,
    mqttUrl: options.mqttUrl,
    ...(options.mqttCa ? { mqttCa: readFileSync(options.mqttCa) } : {}),
    dataDir,
    flowRateMlPerSecond: options.flowRate,
    control: true,
  });
  return {
    panel: dispenser,
    source: `own simulated ${options.id} → ${options.mqttUrl}`,
    close: () => dispenser.stop(),
  };
}

function demoPassword(options: Options): string {
  const file = join(options.dataDir, 'demo-credentials.json');
  try {
    const entry = readDemoCredentials(file).dispensers.find((d) => d.id === options.id);
    if (entry) return entry.password;
    throw new Error(`${options.id} is not listed`);
  } catch (error) {
    console.error(
      `terminal dispenser: no password for ${options.id} (${file}: ${(error as Error).message}); use --password or DISPENSER_PASSWORD`,
    );
    process.exit(2);
  }
}

function render(session: Session, dryTankRate: number | undefined): void {
  const view = session.panel.view();
  const border = '─'.repeat(LCD_COLUMNS);
  const lines = [
    `Tusafishe dispenser — ${session.source}`,
    '',
    `  ┌${border}┐`,
    ...view.lcd.map((line) => `  │${line}│`),
    `  └${border}┘`,
    '',
    `  valve ${view.valveOpen ? 'OPEN  ●' : 'closed ○'}   flow ${view.flowRateMlPerSecond} mL/s${dryTankRate !== undefined ? ' (dry tank)' : ''}   gateway ${view.connected ? 'connected' : 'unreachable'}`,
    '',
    '  keys: 0-9 digits   * delete / cancel / stop   # (or Enter) next   A-D presets',
    '        f dry tank on/off   q quit',
  ];
  process.stdout.write(`\x1b[2J\x1b[H${lines.join('\n')}\n`);
}

/** Keyboard → keypad: letters a-d are presets, Enter is #, Backspace is *. */
function keypadKey(input: string): string | undefined {
  if (/^[0-9*#]$/.test(input)) return input;
  if (/^[a-dA-D]$/.test(input)) return input.toUpperCase();
  if (input === '\r' || input === '\n') return '#';
  if (input === '\x7f' || input === '\b') return '*';
  return undefined;
}

let quit: (message?: string) => void = () => process.exit(0);

async function main(): Promise<void> {
  const options = readOptions();
  const session = await openPanel(options);
  let dryTankRate: number | undefined;
  const draw = () => render(session, dryTankRate);
  session.panel.onChange(draw);
  quit = (message?: string) => {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    void session.close().finally(() => {
      if (message) console.log(message);
      process.exit(0);
    });
  };
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    for (const input of chunk) {
      if (input === 'q' || input === '\x03') return quit();
      if (input === 'f') {
        const rate = session.panel.view().flowRateMlPerSecond;
        session.panel.setFlowRate(dryTankRate ?? 0);
        dryTankRate = dryTankRate === undefined ? rate : undefined;
        continue;
      }
      const key = keypadKey(input);
      if (key) session.panel.press(key);
    }
  });
  process.stdin.on('end', () => undefined);
  draw();
}

await main();
