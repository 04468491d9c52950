import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '../hal.js';

/** The device's flash preferences as one file per key; a write is durable (fsync + rename) before it returns. */
export class FileStorage implements Storage {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  get(key: string): string | undefined {
    try {
      return readFileSync(this.#path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  set(key: string, value: string): void {
    const path = this.#path(key);
    const temporary = `${path}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, value);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  }

  remove(key: string): void {
    rmSync(this.#path(key), { force: true });
  }

  #path(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}
