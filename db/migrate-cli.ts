// `npm run db:migrate`: applies the migrations to DATABASE_URL (or --database-url <url>).
import { parseArgs } from 'node:util';
import { migrateDatabase } from './migrate.js';

const { values } = parseArgs({ options: { 'database-url': { type: 'string' } } });
const url = values['database-url'] ?? process.env.DATABASE_URL;
if (!url) {
  console.error('db:migrate needs DATABASE_URL or --database-url postgres://user@host:port/db');
  process.exit(2);
}
try {
  await migrateDatabase(url);
  console.log('migrations applied');
} catch (error) {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exit(1);
}
