// drizzle-kit reads this to GENERATE migrations from db/schema.ts (`npm run db:generate`).
// Migrations are committed and applied by db/migrate.ts; never `drizzle-kit push`.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
});
