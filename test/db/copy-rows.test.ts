// The binary COPY encoding against the real Postgres: each layout is the drizzle table's own
// column list, and bigint values (negative, beyond 32 bits, the largest safe integer), NULLs,
// booleans and non-ASCII text come back exactly as written, also across chunk boundaries.
import { getTableColumns } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryCopyWriter, textBound } from '../../server/persistence/postgres/copy-binary.js';
import { LEDGER_COPY_LAYOUT, ORDER_COPY_LAYOUT, TRADE_COPY_LAYOUT } from '../../server/persistence/postgres/copy-rows.js';
import { ledger, orders, trades } from '../../db/schema.js';
import { InvalidBatchError } from '../../server/persistence/postgres/batch-rows.js';
import { copyIn } from '../../server/persistence/postgres/pg-copy.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let db: ScratchDatabase;
beforeAll(async () => {
  db = await createScratchDatabase({ migrate: false });
  await db.sql`create table probe (n bigint, flag boolean, name text)`;
});
afterAll(async () => {
  await db?.drop();
});

describe('binary COPY', () => {
  it('each layout names the drizzle table columns, in order, with their types', () => {
    for (const [table, layout] of [
      [trades, TRADE_COPY_LAYOUT],
      [orders, ORDER_COPY_LAYOUT],
      [ledger, LEDGER_COPY_LAYOUT],
    ] as const) {
      const columns = Object.values(getTableColumns(table)).map((column) => [column.name, column.getSQLType()]);
      expect(columns).toEqual(layout.map(([name, type]) => [name, type]));
    }
  });

  it('round-trips bigints, NULLs, booleans and UTF-8 text, in 64-byte chunks', async () => {
    const values: [number | null, boolean, string | null][] = [
      [0, false, ''],
      [-1, true, 'ünï-€-🙂'],
      [Number.MAX_SAFE_INTEGER, false, 'we"ird,\\ {cid}\t\n'],
      [Number.MIN_SAFE_INTEGER, true, null],
      [2 ** 32 + 5, false, 'x'.repeat(300)],
      [null, true, 'NULL'],
    ];
    const writer = new BinaryCopyWriter(64);
    for (const [n, flag, name] of values) {
      writer.row(3, 2 + 12 + 5 + textBound(name));
      writer.int8OrNull(n);
      writer.bool(flag);
      writer.text(name);
    }
    const chunks = writer.take();
    expect(chunks.length).toBeGreaterThan(3);
    await db.sql.begin((tx) => copyIn(tx, 'copy probe (n, flag, name) from stdin (format binary)', chunks));
    const rows = await db.sql`select n, flag, name from probe`;
    expect(rows.map((row) => [row.n, row.flag, row.name])).toEqual(values);
  });

  it('refuses what a bigint cannot hold exactly, before sending anything', () => {
    const writer = new BinaryCopyWriter();
    writer.row(1, 14);
    for (const bad of [0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) expect(() => writer.int8(bad)).toThrow(InvalidBatchError);
    for (const bad of [0.5, Number.NaN, 2 ** 31, -(2 ** 31) - 1]) expect(() => writer.int4(bad)).toThrow(InvalidBatchError);
  });

  it('round-trips int4 at both ends of its range', async () => {
    await db.sql`create table probe4 (n integer)`;
    const values = [0, -1, 2 ** 31 - 1, -(2 ** 31), 65_536];
    const writer = new BinaryCopyWriter(64);
    for (const n of values) {
      writer.row(1, 2 + 8);
      writer.int4(n);
    }
    await db.sql.begin((tx) => copyIn(tx, 'copy probe4 (n) from stdin (format binary)', writer.take()));
    expect((await db.sql`select n from probe4`).map((row) => row.n)).toEqual(values);
  });

  it('a COPY refused after its data was sent reports Postgres’ own error', async () => {
    const writer = new BinaryCopyWriter();
    writer.row(3, 64);
    writer.int8(1);
    writer.bool(true);
    writer.text('a\u0000b');
    const error = await db.sql
      .begin((tx) => copyIn(tx, 'copy probe (n, flag, name) from stdin (format binary)', writer.take()))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect((error as { code?: unknown }).code).toBe('22021');
  });
});
