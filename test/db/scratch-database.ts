// A throwaway database per test file on the shared Postgres, so test files running side by side
// (and other developers' tests) never see each other's rows. Migrated by the real migrator.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrateDatabase } from '../../db/migrate.js';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Assertions compare with JS numbers, as the sink's drizzle columns ({ mode: 'number' }) read them.
const BIGINT_AS_NUMBER = {
  to: 20,
  from: [20],
  serialize: (value: number) => String(value),
  parse: (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} is not a safe integer`);
    return value;
  },
};

export interface ScratchDatabase {
  readonly url: string;
  readonly name: string;
  /** A plain postgres.js client on the scratch database, for assertions. */
  readonly sql: postgres.Sql<{ bigint: number }>;
  drop(): Promise<void>;
}

export async function createScratchDatabase(options: { migrate?: boolean } = {}): Promise<ScratchDatabase> {
  const name = `spotwire_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  if (options.migrate ?? true) await migrateDatabase(url.toString());
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {}, types: { bigint: BIGINT_AS_NUMBER } });
  return {
    url: url.toString(),
    name,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      const dropper = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
