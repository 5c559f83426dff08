import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests import the client from its source: test/client-package rebuilds the package's dist/
    // while it runs. The page's bundle is built from the package itself (web/vite.config.ts).
    alias: { '@spotwire/client': fileURLToPath(new URL('./protocol/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts', 'web/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
