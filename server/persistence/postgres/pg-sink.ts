// The Postgres sink: writes each EventBatch as ONE transaction (orders upserted to their latest
// state, trades and ledger movements inserted once, balances upserted to their latest state,
// first-seen markets and accounts, and this sink's applied seq), so
// the database is always the projection of a journal prefix. Every write is idempotent by seq:
// replaying a range, or an older batch after a newer one, changes nothing.
//
// Rows travel as binary COPY (server/persistence/postgres/copy-rows.ts). The transaction first locks this sink's progress
// row and reads its applied seq; a batch entirely past it is new, so its trades, its ledger rows and
// the orders it placed are copied straight into their tables (no ON CONFLICT, which costs the backend
// CPU). Everything else goes through per-connection staging tables and INSERT … SELECT … ON CONFLICT: a
// batch overlapping what was applied, a redrive, the orders a batch changed but did not place, and
// a batch whose straight copy met a row someone else wrote (unique violation: it is written again
// that way). Trades are streamed into their COPY while the batch is still being scanned.
import postgres from 'postgres';
import { InvalidBatchError, batchRows, marketDetails, type BatchRows } from './batch-rows.js';
import { BinaryCopyWriter } from './copy-binary.js';
import {
  LEDGER_COPY_LAYOUT,
  ORDER_COPY_LAYOUT,
  TRADE_COPY_LAYOUT,
  columnList,
  encodeLedger,
  encodeOrders,
  encodeTrade,
} from './copy-rows.js';
import { moneyRows, type MoneyRows } from './money-rows.js';
import type { BalanceRow, LedgerRow, OrderRow } from '../../../db/schema.js';
import type { MarketInfo } from '../../../protocol/messages.js';
import type { EventBatch, Sink } from '../event-batch.js';
import { copyIn, openCopy } from './pg-copy.js';
import { noDelaySocketFactory } from './pg-socket.js';

export interface PgSinkOptions {
  readonly url: string;
  /** The row in sink_progress; two sinks writing one database need two names. */
  readonly name?: string;
  /** Descriptive columns for the markets table; markets not listed get NULLs. */
  readonly markets?: readonly MarketInfo[];
  /** Bytes of COPY data per piece sent; a larger batch goes in several (same COPY). */
  readonly copyChunkBytes?: number;
  readonly connectTimeoutSeconds?: number;
  /**
   * Server-side bound on one statement (SQLSTATE 57014 when hit, which is retried). A caller's
   * deadline can abandon a promise but not the statement; this ends it and releases its locks.
   */
  readonly statementTimeoutMs?: number;
}

const DEFAULT_COPY_CHUNK_BYTES = 256 * 1024;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
// Markets and accounts already in the database need no statement. The cache only saves work, so
// when it grows past this it is simply emptied (bounded memory with millions of accounts). It is
// also emptied whenever the database may have changed behind the sink: on a failed write, and
// when the pipeline re-reads the applied seq (at start and after an outage, when it checks for a
// database that lost data and rebuilds it from the journal).
const MAX_KNOWN_NAMES = 100_000;
// A first guess at a COPY row's size, so a small batch does not allocate a whole chunk.
const ROW_BYTES_GUESS = 192;
// Trades are streamed while the batch is scanned: small pieces let Postgres start early.
const STREAM_CHUNK_BYTES = 64 * 1024;

const TRADE_COLUMNS = columnList(TRADE_COPY_LAYOUT);
const ORDER_COLUMNS = columnList(ORDER_COPY_LAYOUT);
const LEDGER_COLUMNS = columnList(LEDGER_COPY_LAYOUT);
const BINARY = '(format binary)';
// Temporary tables live in the session: each connection creates its own, once. `on commit delete
// rows` empties them with the transaction, so a failed batch leaves nothing behind either.
const TRADES_STAGE = 'spotwire_trades_stage';
const ORDERS_STAGE = 'spotwire_orders_stage';
const LEDGER_STAGE = 'spotwire_ledger_stage';

const SQL = {
  // Safe: the journal is the truth, and the applied seq commits in this same transaction, so a
  // commit that a crash of Postgres loses goes back together with its seq and is replayed. Not
  // waiting for the WAL flush takes the commit's fsync off the sink's path.
  asyncCommit: 'set local synchronous_commit = off',
  // Serializes writers of the same sink name; what it returns decides how the batch is written.
  lockProgress: 'select applied_seq from sink_progress where sink = $1 for update',
  appliedSeq: 'select applied_seq from sink_progress where sink = $1',
  // Only forward: a late markApplied or an old batch cannot move progress back.
  progress:
    'insert into sink_progress (sink, applied_seq) values ($1, $2) on conflict (sink) do update ' +
    'set applied_seq = greatest(sink_progress.applied_seq, excluded.applied_seq)',
  markets:
    'insert into markets (sym, base, quote, px_decimals, qty_decimals, first_seq) ' +
    'select * from unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::bigint[]) ' +
    'on conflict (sym) do update set base = coalesce(excluded.base, markets.base), ' +
    'quote = coalesce(excluded.quote, markets.quote), px_decimals = coalesce(excluded.px_decimals, markets.px_decimals), ' +
    'qty_decimals = coalesce(excluded.qty_decimals, markets.qty_decimals), first_seq = least(excluded.first_seq, markets.first_seq)',
  accounts:
    'insert into accounts (account, first_seq) select * from unnest($1::text[], $2::bigint[]) ' +
    'on conflict (account) do update set first_seq = excluded.first_seq where accounts.first_seq > excluded.first_seq',
  // A balance row is the newest state: an older batch (replayed, redriven) never overwrites it,
  // and the same seq again writes the same values, so it is skipped.
  balances:
    'insert into balances (account, asset, available, hold, updated_seq) ' +
    'select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) ' +
    'on conflict (account, asset) do update set available = excluded.available, hold = excluded.hold, ' +
    'updated_seq = excluded.updated_seq where balances.updated_seq < excluded.updated_seq',
  copyLedger: `copy ledger (${LEDGER_COLUMNS}) from stdin ${BINARY}`,
  createLedgerStage: `create temporary table if not exists ${LEDGER_STAGE} (like ledger) on commit delete rows`,
  copyLedgerStage: `copy ${LEDGER_STAGE} (${LEDGER_COLUMNS}) from stdin ${BINARY}`,
  mergeLedger: `insert into ledger (${LEDGER_COLUMNS}) select ${LEDGER_COLUMNS} from ${LEDGER_STAGE} on conflict (seq, event_index, leg) do nothing`,
  copyTrades: `copy trades (${TRADE_COLUMNS}) from stdin ${BINARY}`,
  copyOrders: `copy orders (${ORDER_COLUMNS}) from stdin ${BINARY}`,
  createTradesStage: `create temporary table if not exists ${TRADES_STAGE} (like trades) on commit delete rows`,
  createOrdersStage: `create temporary table if not exists ${ORDERS_STAGE} (like orders) on commit delete rows`,
  copyTradesStage: `copy ${TRADES_STAGE} (${TRADE_COLUMNS}) from stdin ${BINARY}`,
  copyOrdersStage: `copy ${ORDERS_STAGE} (${ORDER_COLUMNS}) from stdin ${BINARY}`,
  mergeTrades: `insert into trades (${TRADE_COLUMNS}) select ${TRADE_COLUMNS} from ${TRADES_STAGE} on conflict (market, trade_id) do nothing`,
  // An order's state is the newest one: an older state (a replayed or late batch) never overwrites
  // a newer one. What it was placed as (kind, tif, post, created_*) comes from its earliest row: a
  // row first written from a later exec (its place was dead-lettered) holds a guess there, and the
  // redriven place corrects it.
  mergeOrders:
    `insert into orders (${ORDER_COLUMNS}) select ${ORDER_COLUMNS} from ${ORDERS_STAGE} ` +
    'on conflict (market, order_id) do update set ' +
    ['price', 'qty', 'filled', 'status', 'reason', 'updated_seq', 'updated_ts']
      .map((column) => `${column} = case when orders.updated_seq < excluded.updated_seq then excluded.${column} else orders.${column} end`)
      .join(', ') +
    ', ' +
    ['kind', 'tif', 'post', 'created_seq', 'created_ts']
      .map((column) => `${column} = case when excluded.created_seq < orders.created_seq then excluded.${column} else orders.${column} end`)
      .join(', ') +
    ' where orders.updated_seq < excluded.updated_seq or excluded.created_seq < orders.created_seq',
} as const;

/** The markets and accounts a batch wrote (not known to be in the database before it). */
interface NewNames {
  readonly markets: Map<string, number>;
  readonly accounts: Map<string, number>;
}

/** `direct`: copy new rows straight into the tables; `merge`: every row through ON CONFLICT. */
type WriteMode = 'direct' | 'merge';

export class PgSink implements Sink {
  readonly name: string;
  private readonly client: postgres.Sql;
  private readonly marketInfo: Map<string, MarketInfo>;
  private readonly copyChunkBytes: number;
  private readonly knownMarkets = new Set<string>();
  private readonly knownAccounts = new Set<string>();

  constructor(options: PgSinkOptions) {
    this.name = options.name ?? 'postgres';
    this.copyChunkBytes = options.copyChunkBytes ?? DEFAULT_COPY_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.copyChunkBytes) || this.copyChunkBytes < 1) {
      throw new RangeError(`copyChunkBytes must be a positive integer, got ${this.copyChunkBytes}`);
    }
    this.marketInfo = new Map((options.markets ?? []).map((market) => [market.sym, market]));
    // One transaction at a time needs one connection; the second serves appliedSeq meanwhile.
    this.client = postgres(options.url, {
      // Documented by postgres.js ("Custom socket") but missing from its type definitions.
      ...{ socket: noDelaySocketFactory() },
      max: 2,
      onnotice: () => {},
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      connection: {
        statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
        idle_in_transaction_session_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      },
    });
  }

  async appliedSeq(): Promise<number> {
    this.forgetKnownNames();
    const rows = await this.client.unsafe(SQL.appliedSeq, [this.name]);
    return rows.length > 0 ? Number(rows[0]!.applied_seq) : 0;
  }

  async apply(batch: EventBatch): Promise<void> {
    await this.write(batch, false);
  }

  /** A dead-lettered batch: its seqs are at or below the applied seq, so every row is merged. */
  async redrive(batch: EventBatch): Promise<void> {
    await this.write(batch, true);
  }

  async markApplied(seq: number): Promise<void> {
    await this.client.unsafe(SQL.progress, [this.name, seq]);
  }

  /**
   * Retrying cannot fix a batch whose data Postgres refuses: SQLSTATE class 22 (data exception:
   * a bad number, a string it cannot store) or 23 (integrity: not null, check, unique). Anything
   * else (a lost connection, a timeout, the server shutting down) may pass on a retry. A batch
   * the sink itself refuses before writing (InvalidBatchError) is permanent too.
   */
  isPermanent(error: unknown): boolean {
    if (error instanceof InvalidBatchError) return true;
    const code = sqlState(error);
    return code !== null && (code.startsWith('22') || code.startsWith('23'));
  }

  async close(): Promise<void> {
    await this.client.end({ timeout: 5 });
  }

  private async write(batch: EventBatch, redrive: boolean): Promise<void> {
    let names: NewNames | null;
    try {
      try {
        names = await this.transaction(batch, redrive ? 'merge' : 'direct');
      } catch (error) {
        // A row of this batch is there although the applied seq says it is not: another writer
        // (a second sink name, a redrive) put it there. Merging skips it.
        if (sqlState(error) !== '23505') throw error;
        names = await this.transaction(batch, 'merge');
      }
    } catch (error) {
      this.forgetKnownNames();
      throw error;
    }
    // Only after the commit: a rolled-back batch must not hide a name from the next attempt.
    if (names === null) return;
    remember(this.knownMarkets, names.markets);
    remember(this.knownAccounts, names.accounts);
  }

  private encodeOrders(rows: readonly OrderRow[]): Buffer[] {
    const writer = new BinaryCopyWriter(Math.min(this.copyChunkBytes, 64 + rows.length * ROW_BYTES_GUESS));
    encodeOrders(writer, rows);
    return writer.take();
  }

  private encodeLedger(rows: readonly LedgerRow[]): Buffer[] {
    const writer = new BinaryCopyWriter(Math.min(this.copyChunkBytes, 64 + rows.length * ROW_BYTES_GUESS));
    encodeLedger(writer, rows);
    return writer.take();
  }

  /**
   * One batch, one transaction. The batch is scanned inside it, after the applied seq is known:
   * trades are encoded as they are found and streamed into their COPY piece by piece, so Postgres
   * inserts them while Node is still reducing the orders. Returns the names it wrote, or null
   * when the whole batch was in already.
   */
  private async transaction(batch: EventBatch, mode: WriteMode): Promise<NewNames | null> {
    return this.client.begin(async (tx) => {
      // Issued together: postgres.js pipelines them on the transaction's connection, and the
      // first failure aborts the transaction (later statements then fail too, and roll back).
      const [, locked] = await Promise.all([tx.unsafe(SQL.asyncCommit), tx.unsafe(SQL.lockProgress, [this.name])]);
      const applied = locked.length > 0 ? Number(locked[0]!.applied_seq) : 0;
      if (mode === 'direct' && applied >= batch.toSeq) return null; // all of it is in already
      const direct = mode === 'direct' && applied < batch.fromSeq;

      // A COPY holds the connection until it ends, so COPYs and what follows them go one by one.
      if (!direct) await tx.unsafe(SQL.createTradesStage);
      const tradeCopy = await openCopy(tx, direct ? SQL.copyTrades : SQL.copyTradesStage);
      const tradeWriter = new BinaryCopyWriter(Math.min(this.copyChunkBytes, STREAM_CHUNK_BYTES), (chunk) => tradeCopy.write(chunk));
      let rows: BatchRows;
      let money: MoneyRows;
      try {
        rows = batchRows(batch, (trade, seq) => encodeTrade(tradeWriter, trade, seq));
        tradeWriter.finish();
        money = moneyRows(batch);
      } catch (error) {
        tradeCopy.abort(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
      const tradesCopied = tradeCopy.end();
      let placed: Buffer[];
      let changed: Buffer[];
      let ledger: Buffer[];
      try {
        placed = this.encodeOrders(rows.placedOrders);
        changed = this.encodeOrders(rows.changedOrders);
        ledger = this.encodeLedger(money.ledger);
      } finally {
        // Even when encoding failed: nothing else may go on the connection before the COPY ends.
        await tradesCopied;
      }

      const statements: Promise<unknown>[] = [];
      if (!direct) statements.push(tx.unsafe(SQL.mergeTrades));
      if (direct && placed.length > 0) await copyIn(tx, SQL.copyOrders, placed);
      // Ledger rows are facts like trades: new ones copied straight in, others merged, never changed.
      if (ledger.length > 0) {
        if (direct) await copyIn(tx, SQL.copyLedger, ledger);
        else {
          await Promise.all([...statements.splice(0), tx.unsafe(SQL.createLedgerStage)]);
          await copyIn(tx, SQL.copyLedgerStage, ledger);
          statements.push(tx.unsafe(SQL.mergeLedger));
        }
      }
      const staged = direct ? [changed] : [placed, changed];
      if (staged.some((chunks) => chunks.length > 0)) {
        await Promise.all([...statements.splice(0), tx.unsafe(SQL.createOrdersStage)]);
        for (const chunks of staged) if (chunks.length > 0) await copyIn(tx, SQL.copyOrdersStage, chunks);
        statements.push(tx.unsafe(SQL.mergeOrders));
      }
      const names = {
        markets: unknownNames(rows.markets, this.knownMarkets),
        accounts: unknownNames(rows.accounts, this.knownAccounts),
      };
      statements.push(
        ...this.writeMarkets(tx, names.markets),
        ...this.writeAccounts(tx, names.accounts),
        ...writeBalances(tx, money.balances),
      );
      statements.push(tx.unsafe(SQL.progress, [this.name, batch.toSeq]));
      await Promise.all(statements);
      return names;
    });
  }

  private forgetKnownNames(): void {
    this.knownMarkets.clear();
    this.knownAccounts.clear();
  }

  private writeMarkets(tx: postgres.TransactionSql, names: Map<string, number>): Promise<unknown>[] {
    if (names.size === 0) return [];
    const syms: string[] = [];
    const bases: (string | null)[] = [];
    const quotes: (string | null)[] = [];
    const pxDecimals: (number | null)[] = [];
    const qtyDecimals: (number | null)[] = [];
    const firstSeqs: number[] = [];
    for (const [sym, firstSeq] of names) {
      const details = marketDetails(this.marketInfo.get(sym));
      syms.push(sym);
      bases.push(details.base);
      quotes.push(details.quote);
      pxDecimals.push(details.pxDecimals);
      qtyDecimals.push(details.qtyDecimals);
      firstSeqs.push(firstSeq);
    }
    return [tx.unsafe(SQL.markets, [syms, bases, quotes, pxDecimals, qtyDecimals, firstSeqs])];
  }

  private writeAccounts(tx: postgres.TransactionSql, names: Map<string, number>): Promise<unknown>[] {
    if (names.size === 0) return [];
    return [tx.unsafe(SQL.accounts, [[...names.keys()], [...names.values()]])];
  }
}

function writeBalances(tx: postgres.TransactionSql, rows: readonly BalanceRow[]): Promise<unknown>[] {
  if (rows.length === 0) return [];
  return [
    tx.unsafe(SQL.balances, [
      rows.map((r) => r.account),
      rows.map((r) => r.asset),
      rows.map((r) => r.available),
      rows.map((r) => r.hold),
      rows.map((r) => r.updatedSeq),
    ]),
  ];
}

function unknownNames(seen: Map<string, number>, known: Set<string>): Map<string, number> {
  const fresh = new Map<string, number>();
  for (const [name, firstSeq] of seen) if (!known.has(name)) fresh.set(name, firstSeq);
  return fresh;
}

function remember(known: Set<string>, names: Map<string, number>): void {
  if (known.size + names.size > MAX_KNOWN_NAMES) known.clear();
  for (const name of names.keys()) known.add(name);
}

/** The SQLSTATE of a Postgres error, looking through wrappers (a driver's error in `cause`). */
function sqlState(error: unknown): string | null {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
