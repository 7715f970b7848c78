import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NexoraError, describeError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { Queryable, ScriptConnection } from './db.js';

/** One numbered schema change: `NNN_name.sql` in src/store/migrations. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: Date;
}

export interface MigrationStatus {
  applied: AppliedMigration[];
  pending: Migration[];
}

// Any fixed 64-bit number works; every nexora process must use the same one.
const migrationLockKey = 7_340_117_001;

/** Where the .sql files live, both when running from src/ (tsx) and from dist/. */
export function migrationsDirectory(): string {
  return join(packageRoot(), 'src', 'store', 'migrations');
}

/** Reads the migrations in version order. */
export function loadMigrations(directory: string = migrationsDirectory()): Migration[] {
  const migrations = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d+)_([a-z0-9_-]+)\.sql$/.exec(file);
      if (!match?.[1] || !match[2]) {
        throw new NexoraError('migration-failed', `Migration file ${join(directory, file)} is misnamed: name it NNN_description.sql.`);
      }
      const sql = readFileSync(join(directory, file), 'utf8');
      return { version: Number(match[1]), name: match[2], sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new NexoraError('migration-failed', `Migrations in ${directory} must be numbered 1, 2, 3… without gaps; found ${migration.version} at position ${index + 1}.`);
    }
  });
  return migrations;
}

/**
 * Applies the pending migrations, each in its own transaction, under an advisory lock so that
 * two processes starting at once do not both migrate: the second waits, then finds nothing to do.
 */
export async function applyMigrations(connection: ScriptConnection, migrations: Migration[]): Promise<Migration[]> {
  await connection.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
  try {
    await connection.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY CHECK (version > 0),
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await connection.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
    checkApplied(applied, migrations);
    const done = new Set(applied.map((row) => row.version));
    const pending = migrations.filter((migration) => !done.has(migration.version));
    for (const migration of pending) {
      await applyOne(connection, migration);
    }
    return pending;
  } finally {
    await connection.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]);
  }
}

async function applyOne(connection: ScriptConnection, migration: Migration): Promise<void> {
  await connection.exec('BEGIN');
  try {
    await connection.exec(migration.sql);
    await connection.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
    await connection.exec('COMMIT');
  } catch (error) {
    await connection.exec('ROLLBACK');
    throw new NexoraError(
      'migration-failed',
      `Migration ${label(migration)} failed and was rolled back: ${describeError(error)}. The database is unchanged by it; fix the cause and run \`nexora db migrate\` again.`,
      { cause: error },
    );
  }
}

function checkApplied(applied: { version: number; checksum: string }[], migrations: Migration[]): void {
  const known = new Map(migrations.map((migration) => [migration.version, migration]));
  for (const row of applied) {
    const migration = known.get(row.version);
    if (!migration) {
      throw new NexoraError(
        'migration-failed',
        `The database has schema version ${row.version}, newer than this nexora knows (${migrations.length}). Upgrade nexora, or point it at another database.`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new NexoraError(
        'migration-failed',
        `Migration ${label(migration)} was edited after it was applied to this database. Restore the original file and add a new numbered migration for the change.`,
      );
    }
  }
}

/** What has been applied and what is waiting. */
export async function migrationStatus(db: Queryable, migrations: Migration[]): Promise<MigrationStatus> {
  const exists = await db.query<{ found: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS found");
  const rows = exists[0]?.found
    ? await db.query<{ version: number; name: string; applied_at: Date }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
    : [];
  const done = new Set(rows.map((row) => row.version));
  return {
    applied: rows.map((row) => ({ version: row.version, name: row.name, appliedAt: new Date(row.applied_at) })),
    pending: migrations.filter((migration) => !done.has(migration.version)),
  };
}

function label(migration: Migration): string {
  return `${String(migration.version).padStart(3, '0')}_${migration.name}`;
}
