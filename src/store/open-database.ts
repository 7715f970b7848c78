import { z } from 'zod';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import type { Db } from './db.js';
import { applyMigrations, loadMigrations, type Migration } from './migrations.js';
import { PgliteDb } from './pglite/pglite-db.js';
import { PostgresDb } from './postgres/postgres-db.js';

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; default: the DATABASE_URL environment variable, else embedded PGlite. */
  url?: string;
  /** The embedded database's directory; default: `<nexora home>/db`. */
  dataDir?: string;
  signal?: AbortSignal;
  /** How long to wait for another process to release the embedded database (default 0). */
  waitMs?: number;
  /** Connections in the server pool (default 10). */
  poolSize?: number;
  /** Skip migrations (for `nexora db status`, which reports them instead). */
  migrate?: boolean;
  env?: NodeJS.ProcessEnv;
}

const urlSchema = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must start with postgres:// or postgresql://');

/**
 * Opens the store: a PostgreSQL server when a URL is given (or DATABASE_URL is set), otherwise
 * the embedded PGlite database in the Nexora home. Pending migrations are applied first.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Db> {
  const env = options.env ?? process.env;
  const url = options.url ?? (env.DATABASE_URL && env.DATABASE_URL.length > 0 ? env.DATABASE_URL : undefined);
  const db = url ? openServer(url, options) : await PgliteDb.open({ dataDir: options.dataDir ?? nexoraPaths(env).database, waitMs: options.waitMs, signal: options.signal });
  if (options.migrate === false) return db;
  try {
    await migrateDatabase(db);
    return db;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

function openServer(url: string, options: OpenDatabaseOptions): PostgresDb {
  const parsed = urlSchema.safeParse(url);
  if (!parsed.success) {
    throw new NexoraError(
      'invalid-config',
      'DATABASE_URL is not a PostgreSQL URL: it must look like postgres://user:password@host:5432/database. Fix it, or unset it to use the embedded database.',
    );
  }
  return new PostgresDb({ url: parsed.data, poolSize: options.poolSize });
}

/** Applies pending migrations and returns the ones it applied (none when up to date). */
export async function migrateDatabase(db: Db): Promise<Migration[]> {
  const migrations = loadMigrations();
  return db.withConnection((connection) => applyMigrations(connection, migrations));
}
