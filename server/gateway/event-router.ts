// Where what the engine did goes: execs to the owner's private stream, remembered orders and
// fills, and logged-in connections; trades and book changes to the batch's market data; balance
// changes to the batch (sent when it seals, after its execs). The commands the gateway runs reach
// it as reports (gateway-listener.ts); the results a cluster replica and `replay --serve` replay
// from the journal reach it as events (distribute).
import type { BalanceMessage, Exec } from '../../protocol/messages.js';
import type { CommandResult } from '../engine/types.js';
import type { AccountQueries } from './account-queries.js';
import type { AccountSessions } from './account-sessions.js';
import type { Batch } from './batch.js';
import type { PrivateStreams } from './private-streams.js';

export class EventRouter {
  constructor(
    private readonly sessions: AccountSessions,
    private readonly privateStreams: PrivateStreams,
    private readonly queries: AccountQueries,
  ) {}

  exec(batch: Batch, account: string, exec: Exec): void {
    // Numbered and kept even with nobody connected: a resume delivers it later.
    this.privateStreams.record(account, exec);
    this.queries.closedOrders.record(account, exec);
    this.queries.recentFills.record(account, exec);
    const targets = this.sessions.connectionsOf(account);
    if (targets) for (const target of targets) batch.send(target, exec);
  }

  distribute(batch: Batch, result: CommandResult): void {
    for (const event of result.events) {
      switch (event.kind) {
        case 'exec':
          this.exec(batch, event.account, event.exec);
          break;
        case 'trade':
          batch.addTrade(event.sym, event.tradeId, event.px, event.qty, event.takerSide, event.ts);
          break;
        case 'level':
          batch.changedBooks.add(event.sym);
          break;
        case 'balance':
          batch.noteBalance(event.account, event.asset, event.available, event.hold);
          break;
        case 'transfer':
          break;
      }
    }
  }

  /** Seal-time: each account's changed balances, as they ended the batch, to its logged-in connections. */
  sendBalances(batch: Batch): void {
    for (const [account, assets] of batch.balances) {
      const targets = this.sessions.connectionsOf(account);
      for (const noted of assets.values()) {
        const message: BalanceMessage = { type: 'balance', asset: noted.asset, available: noted.available, hold: noted.hold, ts: batch.ts };
        this.privateStreams.record(account, message);
        if (targets) for (const target of targets) batch.send(target, message);
      }
    }
  }
}
