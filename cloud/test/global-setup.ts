import type { TestProject } from 'vitest/node';
import { pgliteImage } from './pglite-image.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `pgliteImage()`'s file, which `backends()` gives every PGlite cloud. */
    pgliteImage: string;
  }
}

/** Vitest's global setup (vitest.config.ts): the migrated PGlite image, built before any worker starts. */
export async function setup(project: TestProject): Promise<void> {
  project.provide('pgliteImage', await pgliteImage());
}
