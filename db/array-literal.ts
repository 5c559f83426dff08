// Postgres array literals ('{1,2,3}', '{"a","b",NULL}') built from one column of a row slice, so
// a multi-row INSERT can pass each column as ONE parameter and expand it with unnest(). That keeps
// the statement at a fixed, small parameter count whatever the row count (the 65,535-parameter
// limit never binds), lets Postgres reuse one prepared plan, and costs one string per column.

/** Integer (or boolean) column; null becomes NULL. Integers print exactly, so no quoting. */
export function numberArray<R>(rows: readonly R[], from: number, to: number, pick: (row: R) => number | boolean | null): string {
  let out = '{';
  for (let i = from; i < to; i++) {
    const value = pick(rows[i]!);
    if (i > from) out += ',';
    out += value === null ? 'NULL' : String(value);
  }
  return out + '}';
}

const NEEDS_ESCAPE = /["\\]/g;

/** Text column; every element quoted so commas, braces, spaces and the word NULL stay data. */
export function textArray<R>(rows: readonly R[], from: number, to: number, pick: (row: R) => string | null): string {
  let out = '{';
  for (let i = from; i < to; i++) {
    const value = pick(rows[i]!);
    if (i > from) out += ',';
    if (value === null) out += 'NULL';
    else out += '"' + value.replace(NEEDS_ESCAPE, '\\$&') + '"';
  }
  return out + '}';
}
