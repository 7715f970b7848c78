import type { Command } from 'commander';
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

/** `nexora db migrate|status`. */
export function registerDbCommand(program: Command): void {
  const db = program.command('db').description('the session store: embedded PGlite by default, PostgreSQL when DATABASE_URL is set');

  db.command('migrate')
    .description('apply pending schema migrations')
    .action(async () => {
      const store = await openCliDatabase({ migrate: false });
      try {
        process.stdout.write(`Database: ${describeDatabase(store)}\n`);
        const applied = await migrateDatabase(store);
        if (applied.length === 0) {
          process.stdout.write(`Up to date (schema version ${loadMigrations().length}).\n`);
        } else {
          for (const migration of applied) process.stdout.write(`Applied ${label(migration.version, migration.name)}\n`);
        }
      } finally {
        await store.close();
      }
    });

  db.command('status')
    .description('show the database in use and which migrations are applied or pending')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const store = await openCliDatabase({ migrate: false });
      try {
        const status = await migrationStatus(store, loadMigrations());
        if (options.json) {
          const output = {
            engine: store.kind,
            location: store.location,
            applied: status.applied.map((migration) => ({ version: migration.version, name: migration.name, appliedAt: migration.appliedAt.toISOString() })),
            pending: status.pending.map((migration) => ({ version: migration.version, name: migration.name })),
          };
          process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
          return;
        }
        process.stdout.write(`Database: ${describeDatabase(store)}\n`);
        for (const migration of status.applied) {
          process.stdout.write(`  applied  ${label(migration.version, migration.name)}  ${migration.appliedAt.toISOString()}\n`);
        }
        for (const migration of status.pending) process.stdout.write(`  pending  ${label(migration.version, migration.name)}\n`);
        process.stdout.write(status.pending.length === 0 ? 'Up to date.\n' : `${status.pending.length} pending: run \`nexora db migrate\` (any other nexora command also applies them).\n`);
      } finally {
        await store.close();
      }
    });
}

function label(version: number, name: string): string {
  return `${String(version).padStart(3, '0')}_${name}`;
}
