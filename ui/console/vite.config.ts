import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The operations console: a static build the cloud serves at `/console/`, every asset bundled. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0, target: 'es2022' },
  server: { proxy: { '/console/api': { target: 'http://127.0.0.1:3000' } } },
});
