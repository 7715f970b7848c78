import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { NexoraError, describeError } from '../../errors.js';
import type { Db, Queryable, ScriptConnection } from '../db.js';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.js';
import { initialiseDataDir } from './initialise-data-dir.js';
import { pgliteStartParams } from './pglite-settings.js';

export interface PgliteDbOptions {
  dataDir: string;
  /** How long to wait for another process to release the directory; default 0 (fail at once). */
  waitMs?: number;
  signal?: AbortSignal;
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) in a data directory this process owns. PGlite is
 * one connection: its queries and transactions run one at a time, in order.
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  readonly location: string;
  private closed = false;
  // PGlite runs one statement or transaction at a time already; this queue also covers
  // withConnection, whose raw BEGIN…COMMIT scripts PGlite cannot see as one unit.
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly database: PGlite,
    private readonly lock: DirectoryLock,
    dataDir: string,
  ) {
    this.location = dataDir;
  }

  static async open(options: PgliteDbOptions): Promise<PgliteDb> {
    // Absolute, so that `location` names the same store whatever the working directory.
    const dataDir = resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const lock = await acquireDirectoryLock({ directory: dataDir, waitMs: options.waitMs, signal: options.signal });
    let created = false;
    try {
      const startParams = pgliteStartParams();
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        ensureEmpty(dataDir);
        await initialiseDataDir({ dataDir, startParams, signal: options.signal });
        created = true;
      }
      useBaselineWasmCompiler();
      const database = await PGlite.create(dataDir, { startParams });
      return new PgliteDb(database, lock, dataDir);
    } catch (error) {
      await lock.release();
      if (NexoraError.is(error) && !created) throw error;
      throw new NexoraError(
        'database-failed',
        `Could not open the embedded database at ${dataDir}: ${describeError(error)}. If it was damaged, move the directory aside and Nexora will create a new one (provider keys are then lost; sessions too).`,
        { cause: error },
      );
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.exclusive(() => this.directQuery<T>(sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.database.transaction(async (tx) =>
        fn({
          query: async <R>(sql: string, params: readonly unknown[] = []) => (await tx.query<R>(sql, params as unknown[])).rows,
        }),
      ),
    );
  }

  /** The one connection, for scripts; nothing else runs until `fn` settles. */
  async withConnection<T>(fn: (connection: ScriptConnection) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      fn({
        query: (sql, params) => this.directQuery(sql, params),
        exec: async (sql) => {
          await this.database.exec(sql);
        },
      }),
    );
  }

  private async directQuery<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.database.query<T>(sql, params as unknown[]);
    return result.rows;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.database.close();
    } finally {
      await this.lock.release();
    }
  }
}

/** A directory without PG_VERSION is only made into a database when it holds nothing else. */
function ensureEmpty(dataDir: string): void {
  const entries = readdirSync(dataDir);
  if (entries.length === 0) return;
  throw new NexoraError(
    'database-failed',
    `${dataDir} holds files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) but no database (no PG_VERSION). Move it aside or empty it, and Nexora will create a new database there.`,
  );
}

/**
 * Compiles PGlite's 9 MB module with V8's baseline compiler only. With tier-up, TurboFan
 * recompiles PostgreSQL's hot functions in the background, which cost this process 60–70 MiB of
 * code and compiler memory for good (measured: bench/server-memory.ts) and, on a 2-core machine,
 * made store writes slower rather than faster while it ran. Set before the first compile; the
 * server has no other WebAssembly.
 */
function useBaselineWasmCompiler(): void {
  setFlagsFromString('--liftoff-only');
}
