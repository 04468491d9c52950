/**
 * `npm run link -- cut|restore|status [--data-dir DIR]`: cuts or restores the link between the
 * gateway and the cloud of a running `npm start` (scripts/demo-link.ts), or says how it is.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeLink, LinkCommand, LinkControl, LinkState, linkControlFile, linkMethod } from './demo-link.js';

function fail(message: string, code = 1): never {
  console.error(`npm run link: ${message}`);
  process.exit(code);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
const command = LinkCommand.safeParse(positionals[0] ?? 'status');
if (!command.success) fail('usage: npm run link -- cut|restore|status [--data-dir DIR]', 2);
const file = linkControlFile(resolve(values['data-dir'] ?? process.env.DATA_DIR ?? 'data'));
let port: number;
try {
  port = LinkControl.parse(JSON.parse(readFileSync(file, 'utf8'))).port;
} catch (error) {
  fail(`is npm start running? (${file}: ${(error as Error).message})`);
}
const response = await fetch(`http://127.0.0.1:${port}/${command.data}`, { method: linkMethod(command.data) }).catch(
  (error: unknown) => fail(`npm start's link does not answer on port ${port}: ${(error as Error).message}`),
);
if (!response.ok) fail(`the link answered ${response.status}: ${await response.text()}`);
console.log(describeLink(LinkState.parse(await response.json())));
