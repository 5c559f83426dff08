// The Postgres sink: writes each EventBatch as ONE transaction (orders upserted to their latest
// state, trades inserted once, first-seen markets and accounts, and this sink's applied seq), so
// the database is always the projection of a journal prefix. Every write is idempotent by seq:
// replaying a range, or an older batch after a newer one, changes nothing.
import { sql } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { InvalidBatchError, batchRows, marketDetails, type BatchRows } from '../../db/batch-rows.js';
import { accounts, markets, orders, sinkProgress, trades } from '../../db/schema.js';
import { jsonRows } from '../../db/json-rows.js';
import type { MarketInfo } from '../../protocol/messages.js';
import type { EventBatch, Sink } from './event-batch.js';

export interface PgSinkOptions {
  readonly url: string;
  /** The row in sink_progress; two sinks writing one database need two names. */
  readonly name?: string;
  /** Descriptive columns for the markets table; markets not listed get NULLs. */
  readonly markets?: readonly MarketInfo[];
  /** Rows per INSERT statement; a batch larger than this is written in several (same transaction). */
  readonly rowsPerStatement?: number;
  readonly connectTimeoutSeconds?: number;
  /**
   * Server-side bound on one statement (SQLSTATE 57014 when hit, which is retried). A caller's
   * deadline can abandon a promise but not the statement; this ends it and releases its locks.
   */
  readonly statementTimeoutMs?: number;
}

const DEFAULT_ROWS_PER_STATEMENT = 10_000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
// Markets and accounts already in the database need no statement. The cache only saves work, so
// when it grows past this it is simply emptied (bounded memory with millions of accounts). It is
// also emptied whenever the database may have changed behind the sink: on a failed write, and
// when the pipeline re-reads the applied seq (at start and after an outage, when it checks for a
// database that lost data and rebuilds it from the journal).
const MAX_KNOWN_NAMES = 100_000;

type Tx = Parameters<Parameters<PostgresJsDatabase['transaction']>[0]>[0];

export class PgSink implements Sink {
  readonly name: string;
  private readonly client: postgres.Sql;
  private readonly db: PostgresJsDatabase;
  private readonly marketInfo: Map<string, MarketInfo>;
  private readonly rowsPerStatement: number;
  private readonly knownMarkets = new Set<string>();
  private readonly knownAccounts = new Set<string>();

  constructor(options: PgSinkOptions) {
    this.name = options.name ?? 'postgres';
    this.rowsPerStatement = options.rowsPerStatement ?? DEFAULT_ROWS_PER_STATEMENT;
    if (!Number.isSafeInteger(this.rowsPerStatement) || this.rowsPerStatement < 1) {
      throw new RangeError(`rowsPerStatement must be a positive integer, got ${this.rowsPerStatement}`);
    }
    this.marketInfo = new Map((options.markets ?? []).map((market) => [market.sym, market]));
    // One transaction at a time needs one connection; the second serves appliedSeq meanwhile.
    this.client = postgres(options.url, {
      max: 2,
      onnotice: () => {},
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      connection: {
        statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
        idle_in_transaction_session_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      },
    });
    this.db = drizzle(this.client);
  }

  async appliedSeq(): Promise<number> {
    this.forgetKnownNames();
    const rows = await this.db
      .select({ appliedSeq: sinkProgress.appliedSeq })
      .from(sinkProgress)
      .where(sql`${sinkProgress.sink} = ${this.name}`);
    return rows[0]?.appliedSeq ?? 0;
  }

  async apply(batch: EventBatch): Promise<void> {
    const rows = batchRows(batch);
    const newMarkets = unknownNames(rows.markets, this.knownMarkets);
    const newAccounts = unknownNames(rows.accounts, this.knownAccounts);
    try {
      await this.db.transaction(async (tx) => {
        // Issued together: postgres.js pipelines them on the transaction's connection, and the
        // first failure aborts the transaction (later statements then fail too, and roll back).
        await Promise.all([
          // Safe: the journal is the truth, and the applied seq commits in this same transaction, so
          // a commit that a crash of Postgres loses goes back together with its seq and is replayed.
          // Not waiting for the WAL flush takes the commit's fsync off the sink's path.
          tx.execute(sql`set local synchronous_commit = off`),
          ...this.writeMarkets(tx, newMarkets),
          ...this.writeAccounts(tx, newAccounts),
          ...this.writeOrders(tx, rows),
          ...this.writeTrades(tx, rows),
          this.writeProgress(tx, batch.toSeq),
        ]);
      });
    } catch (error) {
      this.forgetKnownNames();
      throw error;
    }
    // Only after the commit: a rolled-back batch must not hide a name from the next attempt.
    remember(this.knownMarkets, newMarkets);
    remember(this.knownAccounts, newAccounts);
  }

  async markApplied(seq: number): Promise<void> {
    await this.writeProgress(this.db, seq);
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

  private forgetKnownNames(): void {
    this.knownMarkets.clear();
    this.knownAccounts.clear();
  }

  private writeMarkets(tx: Tx, names: Map<string, number>): Promise<unknown>[] {
    if (names.size === 0) return [];
    const values = [...names].map(([sym, firstSeq]) => ({ sym, firstSeq, ...marketDetails(this.marketInfo.get(sym)) }));
    return [
      tx
        .insert(markets)
        .values(values)
        .onConflictDoUpdate({
          target: markets.sym,
          set: {
            base: sql`coalesce(excluded.base, ${markets.base})`,
            quote: sql`coalesce(excluded.quote, ${markets.quote})`,
            pxDecimals: sql`coalesce(excluded.px_decimals, ${markets.pxDecimals})`,
            qtyDecimals: sql`coalesce(excluded.qty_decimals, ${markets.qtyDecimals})`,
            firstSeq: sql`least(excluded.first_seq, ${markets.firstSeq})`,
          },
        })
        .execute(),
    ];
  }

  private writeAccounts(tx: Tx, names: Map<string, number>): Promise<unknown>[] {
    if (names.size === 0) return [];
    const values = [...names].map(([account, firstSeq]) => ({ account, firstSeq }));
    const statements: Promise<unknown>[] = [];
    for (let from = 0; from < values.length; from += this.rowsPerStatement) {
      const to = Math.min(values.length, from + this.rowsPerStatement);
      statements.push(
        tx
          .insert(accounts)
          .select(jsonRows(accounts, values, from, to))
          .onConflictDoUpdate({
            target: accounts.account,
            set: { firstSeq: sql`excluded.first_seq` },
            setWhere: sql`${accounts.firstSeq} > excluded.first_seq`,
          })
          .execute(),
      );
    }
    return statements;
  }

  private writeOrders(tx: Tx, rows: BatchRows): Promise<unknown>[] {
    const statements: Promise<unknown>[] = [];
    for (let from = 0; from < rows.orders.length; from += this.rowsPerStatement) {
      const to = Math.min(rows.orders.length, from + this.rowsPerStatement);
      statements.push(
        tx
          .insert(orders)
          .select(jsonRows(orders, rows.orders, from, to))
          .onConflictDoUpdate({
            target: [orders.market, orders.orderId],
            // What an order was placed as (kind, tif, post, created_*) never changes; its state does.
            set: {
              price: sql`excluded.price`,
              qty: sql`excluded.qty`,
              filled: sql`excluded.filled`,
              status: sql`excluded.status`,
              reason: sql`excluded.reason`,
              updatedSeq: sql`excluded.updated_seq`,
              updatedTs: sql`excluded.updated_ts`,
            },
            // An older state (a replayed or late batch) never overwrites a newer one.
            setWhere: sql`${orders.updatedSeq} < excluded.updated_seq`,
          })
          .execute(),
      );
    }
    return statements;
  }

  private writeTrades(tx: Tx, rows: BatchRows): Promise<unknown>[] {
    const statements: Promise<unknown>[] = [];
    for (let from = 0; from < rows.trades.length; from += this.rowsPerStatement) {
      const to = Math.min(rows.trades.length, from + this.rowsPerStatement);
      statements.push(
        tx
          .insert(trades)
          .select(jsonRows(trades, rows.trades, from, to))
          .onConflictDoNothing({ target: [trades.market, trades.tradeId] })
          .execute(),
      );
    }
    return statements;
  }

  private writeProgress(db: Tx | PostgresJsDatabase, seq: number): Promise<unknown> {
    return db
      .insert(sinkProgress)
      .values({ sink: this.name, appliedSeq: seq })
      .onConflictDoUpdate({
        target: sinkProgress.sink,
        // Only forward: a late markApplied or an old batch cannot move progress back.
        set: { appliedSeq: sql`greatest(${sinkProgress.appliedSeq}, excluded.applied_seq)` },
      })
      .execute();
  }
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

/** The SQLSTATE of a Postgres error, looking through wrappers (drizzle puts the driver's error in `cause`). */
function sqlState(error: unknown): string | null {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
