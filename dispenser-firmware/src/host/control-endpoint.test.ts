import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { attachToControlEndpoint, openControlEndpoint, type ControlEndpoint } from './control-endpoint.js';
import type { DispenserPanel } from './dispenser-panel.js';
import { VirtualPanel } from './virtual-panel.js';

let dir: string;
let endpoint: ControlEndpoint;
const lcd = new VirtualPanel();
const panel: DispenserPanel = {
  press: (keys) => lcd.press(keys),
  view: () => ({ lcd: lcd.lines(), valveOpen: false, state: 'idle', connected: true, flowRateMlPerSecond: 200 }),
  onChange: (listener) => lcd.onChange(listener),
  setFlowRate: () => undefined,
};
lcd.onKey((key) => lcd.show([`pressed ${key}`]));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusafishe-control-'));
  endpoint = await openControlEndpoint(panel, join(dir, 'control.json'));
});
afterEach(async () => {
  await endpoint.close();
  await rm(dir, { recursive: true, force: true });
});

it('outlives a terminal that quits while the LCD changes, and serves the next one', async () => {
  const file = join(dir, 'control.json');
  const { port } = JSON.parse(readFileSync(file, 'utf8')) as { port: number };
  // A client that presses keys and resets its connection at once; the panel keeps changing.
  for (let round = 0; round < 20; round++) {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`${JSON.stringify({ keys: '1#' })}\n`);
    socket.resetAndDestroy();
    for (let change = 0; change < 10; change++) {
      lcd.show([`change ${round}.${change}`]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const next = (await attachToControlEndpoint(file))!;
  await next.press('5');
  await vi.waitFor(() => expect(next.view().lcd).toEqual(['pressed 5']), 20_000);
  next.close();
});
