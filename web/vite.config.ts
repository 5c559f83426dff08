// The production bundle the server serves at / (server/gateway/static-files.ts): hashed asset
// names under assets/ (served immutable), index.html (served no-cache). Preact's JSX runtime.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    reportCompressedSize: false,
  },
});
