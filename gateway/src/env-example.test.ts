import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const GATEWAY = join(import.meta.dirname, '..');

/** Source files of the gateway (not tests). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('gateway/.env.example', () => {
  it('lists every variable the gateway reads', () => {
    const read = new Set<string>();
    for (const file of sources(join(GATEWAY, 'src'))) {
      const text = readFileSync(file, 'utf8');
      // zod env schemas (`NAME: z…`, `NAME: port…`), `env.NAME`, `env['NAME']`, the hardware table's `['HW_…'`.
      const patterns = [
        /^\s+([A-Z][A-Z0-9]*_[A-Z0-9_]+): (?:z\b|port\b|optionalInt\b|Passphrase\b|Ipv4Cidr\b)/gm,
        /\benv\.([A-Z][A-Z0-9]*_[A-Z0-9_]+)/g,
        /\benv\['([A-Z][A-Z0-9_]+)'\]/g,
        /\['(HW_[A-Z0-9_]+)'/g,
      ];
      for (const pattern of patterns) for (const match of text.matchAll(pattern)) read.add(match[1]!);
    }
    const example = readFileSync(join(GATEWAY, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!));
    expect(read.size).toBeGreaterThan(60);
    expect([...read].filter((name) => !listed.has(name)).sort()).toEqual([]);
  });
});
