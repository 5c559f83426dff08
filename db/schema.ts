// Postgres is a queryable projection written behind the engine; the journal stays the source of
// truth. Every money, id, seq and ts column is a 64-bit integer read as a JS number (all values
// are safe integers by protocol), never a float or a numeric string. No foreign keys: a projection
// fed in journal order cannot break them, and each FK check would cost every insert a lookup.
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { CANCEL_REASONS, ORDER_KINDS, SIDES, TIFS, TRANSFER_OPS } from '../protocol/constants.js';

export const markets = pgTable('markets', {
  sym: text('sym').primaryKey(),
  // Null when the sink saw the market in a batch without being told its details.
  base: text('base'),
  quote: text('quote'),
  pxDecimals: integer('px_decimals'),
  qtyDecimals: integer('qty_decimals'),
  firstSeq: bigint('first_seq', { mode: 'number' }).notNull(),
});

export const accounts = pgTable('accounts', {
  account: text('account').primaryKey(),
  firstSeq: bigint('first_seq', { mode: 'number' }).notNull(),
});

/** One row per order: its latest state as of `updated_seq`. */
export const orders = pgTable(
  'orders',
  {
    market: text('market').notNull(),
    orderId: bigint('order_id', { mode: 'number' }).notNull(),
    account: text('account').notNull(),
    cid: text('cid'),
    side: text('side', { enum: SIDES }).notNull(),
    kind: text('kind', { enum: ORDER_KINDS }).notNull(),
    tif: text('tif', { enum: TIFS }).notNull(),
    post: boolean('post').notNull(),
    /** Null for market orders. */
    price: bigint('price', { mode: 'number' }),
    qty: bigint('qty', { mode: 'number' }).notNull(),
    filled: bigint('filled', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['new', 'partial', 'filled', 'canceled'] }).notNull(),
    reason: text('reason', { enum: CANCEL_REASONS }),
    createdSeq: bigint('created_seq', { mode: 'number' }).notNull(),
    updatedSeq: bigint('updated_seq', { mode: 'number' }).notNull(),
    createdTs: bigint('created_ts', { mode: 'number' }).notNull(),
    updatedTs: bigint('updated_ts', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'orders_pkey', columns: [t.market, t.orderId] }),
    // Only open orders are ever looked up by account and state; a partial index stays as small
    // as the books instead of growing with history.
    index('orders_open_by_account')
      .on(t.account, t.market, t.orderId)
      .where(sql`${t.status} in ('new', 'partial')`),
    // Orders without a cid are never looked up by one; leaving them out saves an index write each.
    index('orders_by_account_cid')
      .on(t.account, t.cid)
      .where(sql`${t.cid} is not null`),
    check('orders_side_check', sql`${t.side} in ('buy', 'sell')`),
    check('orders_kind_check', sql.raw(`kind in (${ORDER_KINDS.map((kind) => `'${kind}'`).join(', ')})`)),
    check('orders_tif_check', sql`${t.tif} in ('gtc', 'ioc', 'fok')`),
    check('orders_status_check', sql`${t.status} in ('new', 'partial', 'filled', 'canceled')`),
    check('orders_price_check', sql`${t.price} is null or ${t.price} > 0`),
    check('orders_qty_check', sql`${t.qty} > 0 and ${t.filled} >= 0 and ${t.filled} <= ${t.qty}`),
    check('orders_seq_check', sql`${t.updatedSeq} >= ${t.createdSeq}`),
  ],
);

/**
 * Immutable facts. The primary key (market, trade_id) also serves "a market's recent trades":
 * Postgres scans a btree backwards, so a second (market, trade_id desc) index would only slow inserts.
 */
export const trades = pgTable(
  'trades',
  {
    market: text('market').notNull(),
    tradeId: bigint('trade_id', { mode: 'number' }).notNull(),
    price: bigint('price', { mode: 'number' }).notNull(),
    qty: bigint('qty', { mode: 'number' }).notNull(),
    makerOrderId: bigint('maker_order_id', { mode: 'number' }).notNull(),
    takerOrderId: bigint('taker_order_id', { mode: 'number' }).notNull(),
    makerAccount: text('maker_account').notNull(),
    takerAccount: text('taker_account').notNull(),
    takerSide: text('taker_side', { enum: SIDES }).notNull(),
    /** Journal seq of the command that produced the trade. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'trades_pkey', columns: [t.market, t.tradeId] }),
    index('trades_by_maker_account_ts').on(t.makerAccount, t.ts),
    index('trades_by_taker_account_ts').on(t.takerAccount, t.ts),
    check('trades_price_check', sql`${t.price} > 0`),
    check('trades_qty_check', sql`${t.qty} > 0`),
    check('trades_taker_side_check', sql`${t.takerSide} in ('buy', 'sell')`),
  ],
);

/**
 * Each account's funds per asset as of `updated_seq`: the balance event of the last command that
 * changed it. `@fees` (protocol/constants.ts FEES_ACCOUNT) has rows like any account.
 */
export const balances = pgTable(
  'balances',
  {
    account: text('account').notNull(),
    asset: text('asset').notNull(),
    available: bigint('available', { mode: 'number' }).notNull(),
    hold: bigint('hold', { mode: 'number' }).notNull(),
    updatedSeq: bigint('updated_seq', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'balances_pkey', columns: [t.account, t.asset] }),
    check('balances_amounts_check', sql`${t.available} >= 0 and ${t.hold} >= 0`),
  ],
);

/**
 * Why a balance moved: `deposit`/`withdraw` (a transfer), `trade` (what a fill paid or delivered),
 * `fee` (paid by a side, and received by `@fees`). Holds are not movements: they only split a
 * balance between available and hold, so they are in `balances` and the open orders, not here.
 */
export const LEDGER_KINDS = [...TRANSFER_OPS, 'trade', 'fee'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/**
 * Append-only: one row per movement of an account's total (available + hold) of an asset, signed.
 * For every (account, asset), sum(amount) is available + hold in `balances`. A row is named by
 * the event that caused it — (seq, event_index) as in the Redis stream's ids — and its leg, the
 * movement's fixed place within that event (a trade has up to eight), so replaying a batch
 * writes the same keys again and adds nothing.
 */
export const ledger = pgTable(
  'ledger',
  {
    seq: bigint('seq', { mode: 'number' }).notNull(),
    eventIndex: integer('event_index').notNull(),
    leg: integer('leg').notNull(),
    account: text('account').notNull(),
    asset: text('asset').notNull(),
    kind: text('kind', { enum: LEDGER_KINDS }).notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    /** The trade's market and id (trade and fee rows), null for transfers. */
    market: text('market'),
    tradeId: bigint('trade_id', { mode: 'number' }),
    /** The transfer's ref (deposit and withdraw rows), null for trades. */
    ref: text('ref'),
    ts: bigint('ts', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'ledger_pkey', columns: [t.seq, t.eventIndex, t.leg] }),
    // An account's history of one asset, in journal order (and its sum).
    index('ledger_by_account_asset_seq').on(t.account, t.asset, t.seq),
    check('ledger_kind_check', sql.raw(`kind in (${LEDGER_KINDS.map((kind) => `'${kind}'`).join(', ')})`)),
    check('ledger_amount_check', sql`${t.amount} <> 0`),
  ],
);

/** How far each sink has applied the journal; written in the same transaction as the data. */
export const sinkProgress = pgTable('sink_progress', {
  sink: text('sink').primaryKey(),
  appliedSeq: bigint('applied_seq', { mode: 'number' }).notNull(),
});

export type OrderRow = typeof orders.$inferSelect;
export type TradeRow = typeof trades.$inferSelect;
export type MarketRow = typeof markets.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
export type BalanceRow = typeof balances.$inferSelect;
export type LedgerRow = typeof ledger.$inferSelect;
