// Applies the committed drizzle-kit migrations (db/migrations) with drizzle's migrator. Run at
// server start when a database is configured, and by `npm run db:migrate`.
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

// Any fixed key: it only has to be the same for every Spotwire process sharing a database.
const MIGRATION_LOCK_KEY = 0x5370_7477;

/**
 * Brings the database at `url` up to the latest migration. Two servers starting at once would
 * otherwise both apply the same migration, so the run holds a session advisory lock (one
 * connection, so the lock and the migration share a session).
 */
export async function migrateDatabase(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}
