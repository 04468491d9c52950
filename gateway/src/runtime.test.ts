import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_MALLOC_ENV, GATEWAY_NODE_FLAGS } from './runtime.js';

const DOCKERFILE = readFileSync(join(import.meta.dirname, '../Dockerfile.template'), 'utf8');

describe('the gateway image runs the gateway as the benches measure it', () => {
  it('starts node with the memory flags', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(DOCKERFILE)?.[1];
    const argv = JSON.parse(cmd ?? '[]') as string[];
    expect(argv[0]).toBe('node');
    expect(argv.slice(1, -1)).toEqual(expect.arrayContaining([...GATEWAY_NODE_FLAGS]));
    expect(argv.at(-1)).toBe('gateway/dist/main.js');
  });

  it('sets the allocator environment', () => {
    const env = new Map(
      [...DOCKERFILE.matchAll(/^ENV (.*)$/gm)].flatMap((m) =>
        m[1]!.split(/\s+/).map((pair) => pair.split('=', 2) as [string, string]),
      ),
    );
    for (const [name, value] of Object.entries(GATEWAY_MALLOC_ENV)) expect(env.get(name), name).toBe(value);
  });
});
