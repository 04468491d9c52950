import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNBOOKS = join(ROOT, 'docs/operations');

describe('the operations runbooks', () => {
  it('only name npm scripts that exist, and link only to files that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts;
    for (const file of readdirSync(RUNBOOKS).filter((name) => name.endsWith('.md'))) {
      const text = readFileSync(join(RUNBOOKS, file), 'utf8');
      const named = [...text.matchAll(/npm run ([a-z:-]+)/g)].map((match) => match[1]!);
      expect(
        named.filter((name) => !(name in scripts)),
        file,
      ).toEqual([]);
      const links = [...text.matchAll(/\]\(([^)#:]+\.md)\)/g)].map((match) => match[1]!);
      expect(
        links.filter((link) => !readdirSync(RUNBOOKS).includes(link)),
        file,
      ).toEqual([]);
    }
  });
});
