// `INSERT INTO t SELECT * FROM unnest($1::type[], …)` for a slice of rows: one array parameter per
// column, in the table's own column order (drizzle lists a table's columns in definition order for
// insert…select, and so does getTableColumns), so a schema change cannot misalign the values.
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { numberArray, textArray } from './array-literal.js';

export function unnestRows<T extends PgTable>(table: T, rows: readonly T['$inferSelect'][], from: number, to: number): SQL {
  const args: SQL[] = [];
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const type = column.getSQLType();
    const literal =
      type === 'text'
        ? textArray(rows, from, to, (row) => (row as Record<string, string | null>)[key] ?? null)
        : numberArray(rows, from, to, (row) => (row as Record<string, number | boolean | null>)[key] ?? null);
    args.push(sql`${literal}::${sql.raw(type)}[]`);
  }
  return sql`select * from unnest(${sql.join(args, sql`, `)})`;
}
