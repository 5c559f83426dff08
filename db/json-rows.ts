// `SELECT * FROM json_to_recordset($1) AS r(<the table's columns>)`: a slice of rows sent to
// Postgres as ONE JSON text parameter, for INSERT … SELECT. The statement has a fixed parameter
// count whatever the row count (the 65,535-parameter limit of multi-row VALUES never binds), one
// prepared plan serves every batch, and the encoding is a single native JSON.stringify of the row
// objects already built (measured: 2–3× less CPU in the server process than per-column array
// literals). The record definition comes from the drizzle table, in its column order and with
// the rows' own property names as JSON keys, so a schema change cannot misalign the values.
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

const recordDefinitions = new WeakMap<PgTable, SQL>();

function recordDefinition(table: PgTable): SQL {
  let definition = recordDefinitions.get(table);
  if (!definition) {
    const columns = Object.entries(getTableColumns(table)).map(([key, column]) => `"${key}" ${column.getSQLType()}`);
    definition = sql.raw(columns.join(', '));
    recordDefinitions.set(table, definition);
  }
  return definition;
}

export function jsonRows<T extends PgTable>(table: T, rows: readonly T['$inferSelect'][], from: number, to: number): SQL {
  const json = JSON.stringify(from === 0 && to === rows.length ? rows : rows.slice(from, to));
  // ::text first: typed as json, the driver would encode the string as a JSON string literal.
  return sql`select * from json_to_recordset(${json}::text::json) as r(${recordDefinition(table)})`;
}
