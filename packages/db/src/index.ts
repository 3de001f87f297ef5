export { migrate, readMigrations, MigrationError, type MigrateOptions, type MigrationFile } from "./migrate.js";
export { ensureDatabase } from "./ensure-database.js";
export { createPgPool, createPrismaAdapter, serialiseQueries, type PoolOptions } from "./pool.js";
