// `npm run db:migrate`: applies the migrations to DATABASE_URL (or --database-url <url>).
import { parseArgs } from 'node:util';
import { parseArgsMistake } from '../server/cli-usage.js';
import { createDatabaseIfMissing } from './create-database.js';
import { migrateDatabase } from './migrate.js';

const USAGE = `Usage: npm run db:migrate -- [--database-url URL]

Creates the database if it is missing (when the role may), then applies the migrations in
db/migrations to it. The server does both at start too.

  --database-url URL   the database [DATABASE_URL] (no default: one of them is needed)
  --help, -h           this text

Exit codes: 0 applied, 1 failed, 2 bad usage.`;

let values: { 'database-url'?: string | undefined; help?: boolean | undefined };
try {
  ({ values } = parseArgs({ options: { 'database-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
} catch (error) {
  console.error(`db:migrate: ${parseArgsMistake(error) ?? (error as Error).message} (npm run db:migrate -- --help lists the options)`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const url = values['database-url'] ?? process.env.DATABASE_URL;
if (!url) {
  console.error('db:migrate needs DATABASE_URL or --database-url postgres://user@host:port/db');
  process.exit(2);
}
try {
  if (await createDatabaseIfMissing(url)) console.log(`created database ${new URL(url).pathname.slice(1)}`);
  await migrateDatabase(url);
  console.log('migrations applied');
} catch (error) {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exit(1);
}
