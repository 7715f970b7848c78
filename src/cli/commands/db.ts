import type { Command } from 'commander';
import { connectToServer } from '../../client/ensure-server.js';
import type { NexoraClient } from '../../client/nexora-client.js';
import { NexoraError } from '../../errors.js';
import { loadMigrations, migrateDatabase, migrationStatus, openDatabase, type Db } from '../../store/index.js';

/** How long a command waits for another nexora process to release the embedded database. */
const cliWaitMs = 5_000;

/** Opens the store the way every command does: DATABASE_URL, else the embedded database. */
export async function openCliDatabase(options: { migrate?: boolean } = {}): Promise<Db> {
  return openDatabase({ waitMs: cliWaitMs, ...(options.migrate === false ? { migrate: false } : {}) });
}

/** One line naming the database in use. */
export function describeDatabase(db: Db): string {
  return db.kind === 'pglite' ? `embedded PGlite database at ${db.location}` : `PostgreSQL server at ${db.location}`;
}

interface StoreStatus {
  engine: 'pglite' | 'postgres';
  location: string;
  applied: { version: number; name: string; appliedAt: string }[];
  pending: { version: number; name: string }[];
  /** Set when the migration ran now. */
  appliedNow?: { version: number; name: string }[];
}

/**
 * The store's status, from the running server when there is one (it holds the embedded
 * database), else from the store itself. `migrate` applies pending migrations first.
 */
export async function readStore(options: { migrate: boolean }): Promise<StoreStatus & { through: 'server' | 'store' }> {
  const server = await connectToServer({ autoStart: false }).catch((error: unknown) => {
    if (NexoraError.is(error, 'server-unavailable')) return undefined;
    throw error;
  });
  if (server) {
    try {
      return { ...(await askServer(server.client, options)), through: 'server' };
    } finally {
      server.client.close();
    }
  }
  const store = await openCliDatabase({ migrate: false });
  try {
    const appliedNow = options.migrate ? (await migrateDatabase(store)).map((migration) => ({ version: migration.version, name: migration.name })) : undefined;
    const status = await migrationStatus(store, loadMigrations());
    return {
      engine: store.kind,
      location: store.location,
      applied: status.applied.map((migration) => ({ version: migration.version, name: migration.name, appliedAt: migration.appliedAt.toISOString() })),
      pending: status.pending.map((migration) => ({ version: migration.version, name: migration.name })),
      ...(appliedNow ? { appliedNow } : {}),
      through: 'store',
    };
  } finally {
    await store.close();
  }
}

async function askServer(client: NexoraClient, options: { migrate: boolean }): Promise<StoreStatus> {
  if (!options.migrate) return client.get<StoreStatus>('/v1/store');
  return client.post<StoreStatus>('/v1/store/migrate', {}, { timeoutMs: 120_000 });
}

function describeStatus(status: StoreStatus & { through: 'server' | 'store' }): string {
  const what = status.engine === 'pglite' ? `embedded PGlite database at ${status.location}` : `PostgreSQL server at ${status.location}`;
  return status.through === 'server' ? `${what} (held by the running Nexora server)` : what;
}

/** `nexora db migrate|status`. */
export function registerDbCommand(program: Command): void {
  const db = program.command('db').description('the session store: embedded PGlite by default, PostgreSQL when DATABASE_URL is set');

  db.command('migrate')
    .description('apply pending schema migrations')
    .action(async () => {
      const status = await readStore({ migrate: true });
      process.stdout.write(`Database: ${describeStatus(status)}\n`);
      const applied = status.appliedNow ?? [];
      if (applied.length === 0) process.stdout.write(`Up to date (schema version ${loadMigrations().length}).\n`);
      else for (const migration of applied) process.stdout.write(`Applied ${label(migration.version, migration.name)}\n`);
    });

  db.command('status')
    .description('show the database in use and which migrations are applied or pending')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const status = await readStore({ migrate: false });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ engine: status.engine, location: status.location, applied: status.applied, pending: status.pending }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`Database: ${describeStatus(status)}\n`);
      for (const migration of status.applied) process.stdout.write(`  applied  ${label(migration.version, migration.name)}  ${migration.appliedAt}\n`);
      for (const migration of status.pending) process.stdout.write(`  pending  ${label(migration.version, migration.name)}\n`);
      process.stdout.write(status.pending.length === 0 ? 'Up to date.\n' : `${status.pending.length} pending: run \`nexora db migrate\` (any other nexora command also applies them).\n`);
    });
}

function label(version: number, name: string): string {
  return `${String(version).padStart(3, '0')}_${name}`;
}
