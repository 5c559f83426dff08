// Turns an EventBatch into the money rows Postgres holds: each touched balance as the batch left
// it, and the ledger's movements. Balance events carry absolute values, so the last one per
// (account, asset) is the row. Movements come from the events that move funds between accounts
// or in and out of the exchange (transfers, trades); holds move nothing and have no rows.
//
// A trade event carries its amounts and fees in ledger units but not the asset names: those are
// in the fill execs the engine emits with it, in the same command and before it (a fill's
// `feeAsset` is the asset its side receives: base for the buyer, quote for the seller), so the
// batch itself says which assets a market moves and the sink needs no market configuration.
import type { TradeEvent, TransferEvent } from '../../engine/types.js';
import type { EventBatch } from '../event-batch.js';
import { FEES_ACCOUNT } from '../../../protocol/constants.js';
import { InvalidBatchError } from './batch-rows.js';
import type { BalanceRow, LedgerRow } from '../../../db/schema.js';

export interface MoneyRows {
  /** Each (account, asset) a command of the batch changed, as of the last one. */
  readonly balances: BalanceRow[];
  /** The batch's movements in journal order; zero fees have no row. */
  readonly ledger: LedgerRow[];
}

/**
 * A movement's fixed place in its event, part of the ledger's key: the same event always gives
 * the same legs, whichever of them are written (a zero fee is not).
 */
export const TRADE_LEGS = {
  buyerReceivesBase: 0,
  buyerPaysQuote: 1,
  sellerDeliversBase: 2,
  sellerReceivesQuote: 3,
  buyerPaysFee: 4,
  feesReceiveBase: 5,
  sellerPaysFee: 6,
  feesReceiveQuote: 7,
} as const;
export const TRANSFER_LEG = 0;

interface MarketAssets {
  base: string | null;
  quote: string | null;
}

export function moneyRows(batch: EventBatch): MoneyRows {
  const latest = new Map<string, Map<string, BalanceRow>>();
  const balances: BalanceRow[] = [];
  const ledger: LedgerRow[] = [];
  const assetsOf = new Map<string, MarketAssets>();

  for (const { seq, events } of batch.commands) {
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      switch (event.kind) {
        case 'balance': {
          let ofAccount = latest.get(event.account);
          if (ofAccount === undefined) {
            ofAccount = new Map();
            latest.set(event.account, ofAccount);
          }
          const row = ofAccount.get(event.asset);
          if (row === undefined) {
            const created = { account: event.account, asset: event.asset, available: event.available, hold: event.hold, updatedSeq: seq };
            ofAccount.set(event.asset, created);
            balances.push(created);
          } else {
            row.available = event.available;
            row.hold = event.hold;
            row.updatedSeq = seq;
          }
          break;
        }
        case 'exec': {
          const fill = event.exec.fill;
          if (fill === undefined) break;
          let assets = assetsOf.get(event.exec.sym);
          if (assets === undefined) {
            assets = { base: null, quote: null };
            assetsOf.set(event.exec.sym, assets);
          }
          if (event.exec.side === 'buy') assets.base = fill.feeAsset;
          else assets.quote = fill.feeAsset;
          break;
        }
        case 'trade': {
          const assets = assetsOf.get(event.sym);
          if (assets === undefined || assets.base === null || assets.quote === null) {
            throw new InvalidBatchError(`seq ${seq}: trade ${event.sym}/${event.tradeId} without the fills that name its assets`);
          }
          pushTradeLegs(ledger, seq, index, event, assets.base, assets.quote);
          break;
        }
        case 'transfer':
          ledger.push(transferRow(seq, index, event));
          break;
        case 'level':
          break;
      }
    }
  }
  return { balances, ledger };
}

function transferRow(seq: number, eventIndex: number, t: TransferEvent): LedgerRow {
  const amount = t.op === 'deposit' ? t.amount : -t.amount;
  return {
    seq,
    eventIndex,
    leg: TRANSFER_LEG,
    account: t.account,
    asset: t.asset,
    kind: t.op,
    amount,
    market: null,
    tradeId: null,
    ref: t.ref,
    ts: t.ts,
  };
}

/** Base goes from seller to buyer and quote the other way; each side's fee goes to `@fees`. */
function pushTradeLegs(ledger: LedgerRow[], seq: number, eventIndex: number, t: TradeEvent, base: string, quote: string): void {
  const takerBuys = t.takerSide === 'buy';
  const buyer = takerBuys ? t.takerAccount : t.makerAccount;
  const seller = takerBuys ? t.makerAccount : t.takerAccount;
  const buyerFee = takerBuys ? t.takerFee : t.makerFee;
  const sellerFee = takerBuys ? t.makerFee : t.takerFee;
  const row = (leg: number, account: string, asset: string, kind: 'trade' | 'fee', amount: number): void => {
    ledger.push({ seq, eventIndex, leg, account, asset, kind, amount, market: t.sym, tradeId: t.tradeId, ref: null, ts: t.ts });
  };
  row(TRADE_LEGS.buyerReceivesBase, buyer, base, 'trade', t.baseAmount);
  row(TRADE_LEGS.buyerPaysQuote, buyer, quote, 'trade', -t.quoteAmount);
  row(TRADE_LEGS.sellerDeliversBase, seller, base, 'trade', -t.baseAmount);
  row(TRADE_LEGS.sellerReceivesQuote, seller, quote, 'trade', t.quoteAmount);
  if (buyerFee !== 0) {
    row(TRADE_LEGS.buyerPaysFee, buyer, base, 'fee', -buyerFee);
    row(TRADE_LEGS.feesReceiveBase, FEES_ACCOUNT, base, 'fee', buyerFee);
  }
  if (sellerFee !== 0) {
    row(TRADE_LEGS.sellerPaysFee, seller, quote, 'fee', -sellerFee);
    row(TRADE_LEGS.feesReceiveQuote, FEES_ACCOUNT, quote, 'fee', sellerFee);
  }
}
