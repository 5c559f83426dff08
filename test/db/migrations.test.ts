// The committed migrations against the real Postgres: the migrator builds the schema the
// repositories and the sink rely on (integer money, keys, partial indexes), re-running it or
// running it twice at once is harmless, and db/schema.ts has no change missing a migration.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../db/migrate.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

const run = promisify(execFile);
let db: ScratchDatabase;

beforeAll(async () => {
  db = await createScratchDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.drop();
});

const migrationFiles = (): string[] => readdirSync(MIGRATIONS_FOLDER).filter((file) => file.endsWith('.sql'));

describe('migrations', () => {
  it('two servers migrating one empty database at once both succeed, and each migration is applied once', async () => {
    await Promise.all([migrateDatabase(db.url), migrateDatabase(db.url)]);
    await migrateDatabase(db.url);
    const [row] = await db.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(row).toEqual({ n: migrationFiles().length });
  });

  it('creates the seven tables with every money, id, seq and ts column a bigint', async () => {
    const tables = await db.sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual(['accounts', 'balances', 'ledger', 'markets', 'orders', 'sink_progress', 'trades']);

    const columns = await db.sql`
      select table_name || '.' || column_name as name, data_type, is_nullable
      from information_schema.columns where table_schema = 'public'`;
    const typeOf = new Map(columns.map((c) => [c.name as string, c.data_type as string]));
    const integerColumns = [
      'orders.order_id',
      'orders.price',
      'orders.qty',
      'orders.filled',
      'orders.created_seq',
      'orders.updated_seq',
      'orders.created_ts',
      'orders.updated_ts',
      'trades.trade_id',
      'trades.price',
      'trades.qty',
      'trades.maker_order_id',
      'trades.taker_order_id',
      'trades.seq',
      'trades.ts',
      'sink_progress.applied_seq',
      'accounts.first_seq',
      'markets.first_seq',
      'balances.available',
      'balances.hold',
      'balances.updated_seq',
      'ledger.seq',
      'ledger.amount',
      'ledger.trade_id',
      'ledger.ts',
    ];
    for (const name of integerColumns) expect([name, typeOf.get(name)]).toEqual([name, 'bigint']);
    const floats = columns.filter((c) => ['numeric', 'real', 'double precision', 'money'].includes(c.data_type as string));
    expect(floats).toEqual([]);
    expect(columns.find((c) => c.name === 'orders.price')?.is_nullable).toBe('YES'); // market orders
  });

  it('has the primary keys and the indexes the operator queries use', async () => {
    const indexes = await db.sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`;
    const definition = new Map(indexes.map((i) => [i.indexname as string, i.indexdef as string]));
    expect(definition.get('orders_pkey')).toContain('(market, order_id)');
    expect(definition.get('trades_pkey')).toContain('(market, trade_id)');
    expect(definition.get('orders_open_by_account')).toMatch(/\(account, market, order_id\) WHERE .*'new'.*'partial'/);
    expect(definition.get('orders_by_account_cid')).toMatch(/\(account, cid\) WHERE \(cid IS NOT NULL\)/);
    expect(definition.get('trades_by_maker_account_ts')).toContain('(maker_account, ts)');
    expect(definition.get('trades_by_taker_account_ts')).toContain('(taker_account, ts)');
    expect(definition.get('balances_pkey')).toContain('(account, asset)');
    expect(definition.get('ledger_pkey')).toContain('(seq, event_index, leg)');
    expect(definition.get('ledger_by_account_asset_seq')).toContain('(account, asset, seq)');
  });

  it('rejects what the checks forbid, with integrity SQLSTATEs', async () => {
    const insert = (qty: number, filled: number, status: string) => db.sql`
      insert into orders (market, order_id, account, side, kind, tif, post, price, qty, filled, status,
                          created_seq, updated_seq, created_ts, updated_ts)
      values ('BTC-USD', ${qty * 1000 + filled}, 'alice', 'buy', 'limit', 'gtc', false, 100, ${qty}, ${filled}, ${status}, 1, 1, 1, 1)`;
    await expect(insert(5, 6, 'partial')).rejects.toMatchObject({ code: '23514' });
    await expect(insert(0, 0, 'new')).rejects.toMatchObject({ code: '23514' });
    await expect(insert(5, 0, 'rejected')).rejects.toMatchObject({ code: '23514' });
    await insert(5, 2, 'partial');
    await expect(insert(5, 2, 'partial')).rejects.toMatchObject({ code: '23505' });
    await db.sql`delete from orders`;
  });

  it('refuses negative balances, zero or unknown ledger movements', async () => {
    const balance = (available: number, hold: number) => db.sql`insert into balances values ('alice', 'USD', ${available}, ${hold}, 1)`;
    await expect(balance(-1, 0)).rejects.toMatchObject({ code: '23514' });
    await expect(balance(0, -1)).rejects.toMatchObject({ code: '23514' });
    const movement = (kind: string, amount: number) => db.sql`
      insert into ledger (seq, event_index, leg, account, asset, kind, amount, ts) values (1, 0, 0, 'alice', 'USD', ${kind}, ${amount}, 1)`;
    await expect(movement('deposit', 0)).rejects.toMatchObject({ code: '23514' });
    await expect(movement('gift', 5)).rejects.toMatchObject({ code: '23514' });
    await movement('withdraw', -5);
    await expect(movement('deposit', 5)).rejects.toMatchObject({ code: '23505' });
    await db.sql`delete from ledger`;
  });

  it('npm run db:migrate (db/migrate-cli.ts) applies them, and says what it needs without a URL', async () => {
    const { stdout } = await run('npx', ['tsx', 'db/migrate-cli.ts', '--database-url', db.url], { timeout: 60_000 });
    expect(stdout).toContain('migrations applied');
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const failure = await run('npx', ['tsx', 'db/migrate-cli.ts'], { timeout: 60_000, env }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('needs DATABASE_URL');
  });

  it('db/schema.ts matches the committed migrations (drizzle-kit generate finds nothing to add)', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'spotwire-migrations-'));
    try {
      cpSync(MIGRATIONS_FOLDER, copy, { recursive: true });
      const before = readdirSync(copy).sort();
      // drizzle-kit prefixes `out` with "./", so it has to be relative to the working directory.
      const { stdout } = await run(
        'npx',
        ['drizzle-kit', 'generate', '--dialect', 'postgresql', '--schema', './db/schema.ts', '--out', relative(process.cwd(), copy)],
        {
          timeout: 60_000,
        },
      );
      expect(stdout).toContain('No schema changes');
      expect(readdirSync(copy).sort()).toEqual(before);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
