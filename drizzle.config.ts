import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the per-module table definitions and committed;
// they are applied on start by src/db/migrate.ts, on PGlite and PostgreSQL alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/modules/*/*.tables.ts',
  out: './src/db/migrations',
});
