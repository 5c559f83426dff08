// COPY … FROM STDIN through postgres.js (3.4.9), waiting until Postgres has taken every row. The
// COPY query resolves with a Writable as soon as the server is ready for data, and its 'finish'
// comes with the server's CommandComplete. An error that arrives after CopyDone reaches only the
// query's `reject`, which is a no-op once the query resolved with the stream: 'finish' then
// never comes. So `reject` is wrapped: every failure ends the COPY with Postgres' own error and
// SQLSTATE (a test pins this, since it relies on the driver's internals).
import type { Writable } from 'node:stream';
import type postgres from 'postgres';

interface RejectableQuery {
  reject(error: unknown): void;
  writable(): Promise<Writable>;
}

/** An open COPY … FROM STDIN: data goes in with `write`, then `end` or `abort`. */
export interface CopyStream {
  write(chunk: Uint8Array): void;
  /** Resolves once Postgres has taken every row; rejects with its error. */
  end(): Promise<void>;
  /** Sends CopyFail; the COPY (and its transaction) fails. */
  abort(error: Error): void;
}

/**
 * Starts `statement` (a COPY … FROM STDIN) on `sql`; resolves when the server is ready for data.
 * No other query may be issued on the same connection until the COPY ends (the driver would
 * interleave it with the data).
 */
export async function openCopy(sql: postgres.Sql | postgres.TransactionSql, statement: string): Promise<CopyStream> {
  const query = sql.unsafe(statement) as unknown as RejectableQuery;
  let succeed!: () => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    succeed = resolve;
    fail = reject;
  });
  // Settled by whichever comes first; a failure before the stream exists is thrown by writable().
  done.catch(() => {});
  const rejectQuery = query.reject;
  query.reject = (error) => {
    fail(error);
    rejectQuery(error);
  };
  const stream = await query.writable();
  stream.on('error', fail);
  stream.on('finish', succeed);
  return {
    write: (chunk) => void stream.write(chunk),
    end: () => {
      stream.end();
      return done;
    },
    abort: (error) => void stream.destroy(error),
  };
}

/** A whole COPY: starts it, sends `chunks`, waits until Postgres has taken every row. */
export async function copyIn(sql: postgres.Sql | postgres.TransactionSql, statement: string, chunks: readonly Uint8Array[]): Promise<void> {
  const copy = await openCopy(sql, statement);
  for (const chunk of chunks) copy.write(chunk);
  await copy.end();
}
