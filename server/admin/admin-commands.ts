// `npm run admin -- deposit|withdraw <account> <asset> <amount> --ref R | balances [account]`:
// an operator's deposits, withdrawals and balance checks, sent to a running server over the same
// WebSocket protocol as any client, logged in with an admin key. Amounts are typed as decimals in
// the asset's own units ("1000.50 USD") and turned into ledger units exactly, using the decimals
// the server reports; an amount finer than the asset's unit is refused, never rounded.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { RejectError, SpotwireClient, type WebSocketConstructor } from '../../protocol/client.js';
import type { AssetInfo, BalanceView } from '../../protocol/messages.js';
import { formatUnits, toUnits } from '../../protocol/units.js';
import { parseArgsMistake, wantsHelp } from '../cli-usage.js';

export const ADMIN_USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  deposit <account> <asset> <amount> --ref R    credit an account (amount in the asset's units, e.g. 1000.50)
  withdraw <account> <asset> <amount> --ref R   debit what the account has available
  balances [account]                            an account's balances (default: the admin key's own)

A ref names one transfer: sending the same transfer again is answered as a duplicate and changes
nothing, so a retry after a timeout is safe. Refs are at most 64 characters.

Options:
  --url URL       the server's WebSocket [SPOTWIRE_URL] (default ws://127.0.0.1:9001/ws)
  --token T       an admin key's token (role "admin" in the keys file) [SPOTWIRE_ADMIN_TOKEN]
  --ref R         the transfer's ref (deposit, withdraw)
  --help, -h      this text

Exit codes: 0 done, 1 refused or failed (the reason is printed), 2 bad usage.`;

export interface AdminIo {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

function decimalsOf(assets: readonly AssetInfo[], asset: string): number {
  const info = assets.find((a) => a.asset === asset);
  if (!info) throw new UsageError(`unknown asset ${asset}: the server's assets are ${assets.map((a) => a.asset).join(', ')}`);
  return info.decimals;
}

function showBalances(io: AdminIo, account: string, balances: readonly BalanceView[], assets: readonly AssetInfo[]): void {
  io.out(`${account}:`);
  for (const b of balances) {
    const decimals = decimalsOf(assets, b.asset);
    io.out(`  ${b.asset.padEnd(6)} available ${formatUnits(b.available, decimals)}  hold ${formatUnits(b.hold, decimals)}`);
  }
}

export async function runAdminCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: AdminIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(ADMIN_USAGE);
    return 0;
  }
  let values: { url?: string; token?: string; ref?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { url: { type: 'string' }, token: { type: 'string' }, ref: { type: 'string' } },
      allowPositionals: true,
    }));
  } catch (error) {
    io.err(`${parseArgsMistake(error) ?? (error as Error).message} (npm run admin -- --help)`);
    return 2;
  }
  const [command, ...rest] = positionals;
  const url = values.url ?? env.SPOTWIRE_URL ?? 'ws://127.0.0.1:9001/ws';
  const token = values.token ?? env.SPOTWIRE_ADMIN_TOKEN;
  const usage = (line: string): number => {
    io.err(`${line} (npm run admin -- --help)`);
    return 2;
  };
  if (command !== 'deposit' && command !== 'withdraw' && command !== 'balances')
    return usage(command === undefined ? 'a command is needed: deposit, withdraw or balances' : `unknown command ${command}`);
  if (command === 'balances' ? rest.length > 1 : rest.length !== 3)
    return usage(`${command} takes ${command === 'balances' ? '[account]' : '<account> <asset> <amount>'}`);
  if (command !== 'balances' && values.ref === undefined)
    return usage(`${command} needs --ref: a unique name for this transfer, so a retry cannot apply it twice`);
  if (token === undefined) return usage('an admin token is needed: --token or SPOTWIRE_ADMIN_TOKEN');

  let client: SpotwireClient;
  try {
    client = await SpotwireClient.connect(url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
  } catch (error) {
    io.err(`cannot reach the server at ${url}: ${(error as Error).message}`);
    return 1;
  }
  try {
    const login = await client.login(token);
    const { assets } = await client.markets();
    if (command === 'balances') {
      const account = rest[0] ?? login.account;
      const { balances } = await client.balances(rest[0]);
      showBalances(io, account, balances, assets);
      return 0;
    }
    const [account, asset, amountText] = rest as [string, string, string];
    const decimals = decimalsOf(assets, asset);
    let amount: number;
    try {
      amount = toUnits(amountText, decimals, asset);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const ack =
      command === 'deposit'
        ? await client.deposit(account, asset, amount, values.ref!)
        : await client.withdraw(account, asset, amount, values.ref!);
    const verb = command === 'deposit' ? 'deposited' : 'withdrew';
    io.out(
      `${ack.duplicate ? `already applied (ref ${ack.ref}), nothing changed` : `${verb} ${formatUnits(amount, decimals)} ${asset} (${amount} units, ref ${ack.ref})`}`,
    );
    io.out(`${account} ${asset}: available ${formatUnits(ack.available, decimals)}  hold ${formatUnits(ack.hold, decimals)}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    io.err(error instanceof RejectError ? `refused: ${error.code}: ${error.msg}` : (error as Error).message);
    return 1;
  } finally {
    client.close();
  }
}
