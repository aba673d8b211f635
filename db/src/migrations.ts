import { fileURLToPath } from 'node:url';

/** Where each store's SQL migrations live; drizzle's migrator applies them in order. */
export const sqliteMigrationsFolder = fileURLToPath(
  new URL('../migrations/sqlite', import.meta.url),
);

/** PostgreSQL's migrations: the same tables, with events partitioned by day. */
export const postgresMigrationsFolder = fileURLToPath(
  new URL('../migrations/postgres', import.meta.url),
);
