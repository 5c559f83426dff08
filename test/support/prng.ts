// The seeded generator lives in bench/lib (benches may not import test/); this path stays for the
// engine tests that import it from here.
export { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
