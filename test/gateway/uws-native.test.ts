import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isNativeUws, loadNativeUws } from '../../server/gateway/uws.js';

describe('uWebSockets.js', () => {
  it('loads the native binary, not the pure-JS fallback', () => {
    expect(isNativeUws(loadNativeUws())).toBe(true);
  });

  it('prints no fallback warning when a fresh Node process loads it', () => {
    const child = spawnSync(process.execPath, ['-e', "require('uWebSockets.js'); console.log('loaded')"], {
      encoding: 'utf8',
      env: { ...process.env, UWS_USE_FALLBACK: '' },
    });
    expect(child.stdout).toContain('loaded');
    expect(child.stderr + child.stdout).not.toMatch(/fall(ing)? ?back/i);
  });

  it('refuses to start the server on the fallback', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./server/gateway/uws.ts').then(m => m.loadNativeUws())"], {
      encoding: 'utf8',
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
    });
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain('refusing to start');
  });
});
