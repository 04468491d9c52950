/**
 * `npm run dispenser` (the terminal dispenser, its own process, keys on stdin) against a gateway
 * whose link to the cloud is down: a keypad token typed from the idle screen with key A credits
 * at once, the credit buys water, and the same token typed again is refused.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { kioskExtensions } from '@tusafishe/gateway';
import { startTestGateway, type TestGateway } from '@tusafishe/gateway/testing';
import { TOKEN_OUTCOMES } from '@tusafishe/protocol';
import { issueKeypadToken, newTokenKey, tokenEventId } from '@tusafishe/protocol/keypad-token';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PHONE = '+254700000104';
const KEYPAD_PHONE = '0700000104';
/** The customer's token key, as the cloud makes it and replicates it to gateways. */
const KEY = newTokenKey();
/** Generous: a loaded machine delivers events late; the test waits on them, never on time. */
const WAIT = { timeout: 60_000, interval: 50 };

let cloudLink: Server;
let gateway: TestGateway;
let terminal: ChildProcessWithoutNullStreams;
let output = '';

const customer = () => gateway.store.customers.findByPhone(PHONE)!;

/** The LCD box of the newest frame the terminal drew (each frame starts by clearing the screen). */
const screen = (): string => output.slice(output.lastIndexOf('\x1b[2J\x1b[H'));

async function waitForScreen(text: string): Promise<string> {
  return vi.waitFor(() => {
    expect(screen(), `the terminal to show "${text}"`).toContain(text);
    return screen();
  }, WAIT);
}

beforeAll(async () => {
  // The kiosk's link to the cloud is down: every connection is reset, as a dead 4G link does.
  cloudLink = createServer((socket) => socket.resetAndDestroy()).listen(0, '127.0.0.1');
  await once(cloudLink, 'listening');
  const { port } = cloudLink.address() as { port: number };
  gateway = await startTestGateway({
    extensions: (core) =>
      kioskExtensions(core, {
        HW_MODE: 'off',
        CLOUD_URL: `http://127.0.0.1:${port}`,
        KIOSK_SECRET: 'kiosk-secret-0123456789',
      }),
  });
  // A demo customer with no credit left and the token key the cloud made with them.
  const record = customer();
  gateway.store.applyCustomerRecords([
    { ...record, balance_ml: 0, token_key: KEY, token_counter: 0, version: record.version + 1 },
  ]);
  // What `npm run dispenser -- D1` runs, with the gateway's data directory for its demo password.
  terminal = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'dispenser-firmware/src/host/terminal-dispenser.ts',
      'D1',
      '--standalone',
      '--data-dir',
      gateway.dataDir,
      '--mqtt-url',
      `mqtt://127.0.0.1:${gateway.mqttPort}`,
      '--flow-rate',
      '2000',
    ],
    { cwd: ROOT, stdio: 'pipe' },
  );
  terminal.stdout.on('data', (chunk: Buffer) => (output += chunk));
  terminal.stderr.on('data', (chunk: Buffer) => (output += chunk));
});

afterAll(async () => {
  if (terminal && terminal.exitCode === null && terminal.signalCode === null) {
    const exited = once(terminal, 'exit');
    terminal.kill('SIGTERM');
    await exited;
  }
  await gateway?.close();
  cloudLink?.close();
});

it('credits a token typed with A from the idle screen at once, offline, and refuses it the second time', {
  timeout: 180_000,
}, async () => {
  // Generous: tsx compiles the terminal dispenser on a loaded machine first.
  await vi.waitFor(() => expect(screen()).toMatch(/A=add credit token[\s\S]*gateway connected/), {
    ...WAIT,
    timeout: 120_000,
  });
  const token = issueKeypadToken(KEY, 1, 4000)!;

  terminal.stdin.write('A');
  await waitForScreen('Add credit token');
  terminal.stdin.write(`${KEYPAD_PHONE}#`);
  await waitForScreen('Token (15 digits):');
  terminal.stdin.write(`${token}#`);
  expect(await waitForScreen('Press any key')).toMatch(/Credit added[\s\S]*Token: 4L[\s\S]*Balance 4L/);
  // Credited locally under the cloud's top-up id, waiting for the link to return.
  expect(gateway.store.unacknowledgedEvents(100).map((event) => event.event_id)).toContain(
    tokenEventId(customer().account_id, 1),
  );

  // The credit buys water at once: number, PIN, A (1 L).
  terminal.stdin.write('#');
  await waitForScreen('A=add credit token');
  terminal.stdin.write(`${KEYPAD_PHONE}#1234#A`);
  await waitForScreen('Thank you!');

  await waitForScreen('A=add credit token');
  terminal.stdin.write(`A${KEYPAD_PHONE}#${token}#`);
  expect(await waitForScreen('Press any key')).toContain(TOKEN_OUTCOMES.USED);
  await vi.waitFor(() => expect(gateway.store.availableBalanceMl(customer(), Date.now())).toBe(3000), WAIT);

  terminal.stdin.write('q');
  await once(terminal, 'exit');
});
