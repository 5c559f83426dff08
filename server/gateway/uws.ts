// Loads uWebSockets.js and refuses its pure-JS fallback: the package silently swaps in a slow
// Node implementation when its native binary does not load, and we would rather not start.
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;

/** True when the loaded module is the native addon (its App is a native function). */
export function isNativeUws(uws: UwsModule): boolean {
  return typeof uws.App === 'function' && Function.prototype.toString.call(uws.App).includes('[native code]');
}

export function loadNativeUws(): UwsModule {
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as UwsModule;
  if (!isNativeUws(uws)) {
    throw new Error(
      'uWebSockets.js loaded its pure-JS fallback instead of the native binary; refusing to start (check the Node version and UWS_USE_FALLBACK)',
    );
  }
  return uws;
}
