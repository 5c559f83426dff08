// The browser bundle: dist/index.js (tsc's output, so the bundle runs exactly the code the Node
// build ships) with msgpackr's browser build inlined, minified, as one ES module that a page can
// import without a bundler. Prints its size, minified and gzipped, for the README.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/spotwire-client.browser.js`;

await build({
  entryPoints: [`${root}dist/index.js`],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const bytes = readFileSync(outfile);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`dist/spotwire-client.browser.js: ${kib(bytes.length)} minified, ${kib(gzipSync(bytes, { level: 9 }).length)} gzipped`);
