// Where an engine result's events go: execs to the owner's private stream and logged-in
// connections, trades and book changes to the batch's market data, balance changes to the batch
// (sent when it seals, after its execs). Used live and by `replay --serve`.
import type { BalanceMessage } from '../../protocol/messages.js';
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

  distribute(batch: Batch, result: CommandResult): void {
    for (const event of result.events) {
      switch (event.kind) {
        case 'exec': {
          // Numbered and kept even with nobody connected: a resume delivers it later.
          this.privateStreams.record(event.account, event.exec);
          this.queries.closedOrders.record(event.account, event.exec);
          this.queries.recentFills.record(event.account, event.exec);
          const targets = this.sessions.connectionsOf(event.account);
          if (targets) for (const target of targets) batch.send(target, event.exec);
          break;
        }
        case 'trade':
          batch.addTrade({
            type: 'trade',
            sym: event.sym,
            tradeId: event.tradeId,
            px: event.px,
            qty: event.qty,
            side: event.takerSide,
            ts: event.ts,
          });
          break;
        case 'level':
          batch.changedBooks.add(event.sym);
          break;
        case 'balance':
          batch.noteBalance(event);
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
      for (const event of assets.values()) {
        const message: BalanceMessage = { type: 'balance', asset: event.asset, available: event.available, hold: event.hold, ts: batch.ts };
        this.privateStreams.record(account, message);
        if (targets) for (const target of targets) batch.send(target, message);
      }
    }
  }
}
