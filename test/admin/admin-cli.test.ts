// The operator CLI against a real server: decimal amounts become exact units, refs make retries
// safe, a trader key is refused, and usage mistakes are one line with exit code 2.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand } from '../../server/admin/admin-commands.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.stop();
});

async function admin(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCommand(
    argv,
    { SPOTWIRE_URL: server.url, SPOTWIRE_ADMIN_TOKEN: 'token-admin' },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { code, out, err };
}

describe('npm run admin', () => {
  it('deposits a decimal amount as exact units; the same ref again changes nothing', async () => {
    const first = await admin('deposit', 'frank', 'USD', '1000.50', '--ref', 't-17');
    expect(first).toMatchObject({ code: 0, err: [] });
    expect(first.out).toEqual([
      'deposited 1000.50000000 USD (100050000000 units, ref t-17)',
      'frank USD: available 1000.50000000  hold 0.00000000',
    ]);
    expect(server.server.engine.balances('frank').find((b) => b.asset === 'USD')).toEqual({
      asset: 'USD',
      available: 100_050_000_000,
      hold: 0,
    });
    const again = await admin('deposit', 'frank', 'USD', '1000.50', '--ref', 't-17');
    expect(again.out[0]).toBe('already applied (ref t-17), nothing changed');
    expect(server.server.engine.balances('frank').find((b) => b.asset === 'USD')!.available).toBe(100_050_000_000);
  });

  it('withdraws, refuses more than is available, and shows balances in decimals', async () => {
    expect((await admin('withdraw', 'frank', 'USD', '0.50', '--ref', 'w-1')).code).toBe(0);
    const tooMuch = await admin('withdraw', 'frank', 'USD', '5000', '--ref', 'w-2');
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.err[0]).toMatch(/^refused: insufficient_funds: /);
    const shown = await admin('balances', 'frank');
    expect(shown.out).toEqual([
      'frank:',
      '  BTC    available 0.000000  hold 0.000000',
      '  ETH    available 0.0000  hold 0.0000',
      '  USD    available 1000.00000000  hold 0.00000000',
    ]);
  });

  it('refuses an amount finer than the asset unit, without sending it', async () => {
    const result = await admin('deposit', 'frank', 'BTC', '0.0000001', '--ref', 'fine-1');
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/has 7 decimals; BTC has 6, so the smallest amount is 0.000001/);
    expect(server.server.engine.ledger.refs.has('fine-1')).toBe(false);
  });

  it('a trader key is refused with forbidden', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdminCommand(
      ['deposit', 'bob', 'USD', '1', '--ref', 'sneaky'],
      { SPOTWIRE_URL: server.url, SPOTWIRE_ADMIN_TOKEN: 'token-bob' },
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    expect(code).toBe(1);
    expect(err[0]).toMatch(/^refused: forbidden: /);
  });

  it('usage mistakes are one line and exit 2, through npm as a user runs it', async () => {
    expect((await admin('deposit', 'frank', 'USD', '1')).err[0]).toMatch(/needs --ref/);
    expect((await admin('frobnicate')).err[0]).toMatch(/unknown command frobnicate/);
    const child = spawn('npm', ['run', '--silent', 'admin', '--', '--bogus'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual(['unknown option --bogus (npm run admin -- --help)']);
  });
});
