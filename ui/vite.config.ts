import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Static build served by the gateway at `/`: every asset bundled, nothing fetched from the internet. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0, target: 'es2022' },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
