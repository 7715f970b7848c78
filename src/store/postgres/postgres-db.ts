import pg from 'pg';
import { NexoraError, describeError } from '../../errors.js';
import type { Db, Queryable, ScriptConnection } from '../db.js';
import { sqlState } from '../sql-error.js';
import { maskDatabaseUrl } from './mask-url.js';

export interface PostgresDbOptions {
  url: string;
  /** Most connections the pool opens at once. */
  poolSize?: number;
  connectTimeoutMs?: number;
}

/** A PostgreSQL server reached through a node-postgres pool. */
export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;

  constructor(options: PostgresDbOptions) {
    this.location = maskDatabaseUrl(options.url);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
    });
    // An idle client that loses its server emits here; the pool drops it and the next query
    // reconnects. Without a listener the process would crash.
    this.pool.on('error', () => undefined);
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const result = await this.pool.query(sql, params as unknown[]);
      return result.rows as T[];
    } catch (error) {
      throw isStatementError(error) ? error : this.unreachable(error);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await fn(clientQueryable(client));
      await client.query('COMMIT');
      return value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable (the server went away): don't return it to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs `fn` on one dedicated connection (session-level locks need the same connection). */
  async withConnection<T>(fn: (connection: ScriptConnection) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      return await fn({
        ...clientQueryable(client),
        exec: async (sql) => {
          await client.query(sql);
        },
      });
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A failed script may leave the session in an unknown state: drop the connection.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw isStatementError(error) ? error : this.unreachable(error);
    }
  }

  /** The connection failed: the server is not there, or it refused this login or database. */
  private unreachable(error: unknown): NexoraError {
    if (sqlState(error) !== undefined) {
      return new NexoraError(
        'database-failed',
        `PostgreSQL at ${this.location} refused the connection: ${describeError(error)}. Check the user, password and database name in DATABASE_URL (or unset DATABASE_URL to use the embedded database).`,
        { cause: error },
      );
    }
    return new NexoraError(
      'database-failed',
      `Could not reach PostgreSQL at ${this.location}: ${describeError(error) || 'connection failed'}. Check that the server is running and that DATABASE_URL is right (or unset DATABASE_URL to use the embedded database).`,
      { cause: error },
    );
  }
}

/**
 * Errors without an SQLSTATE come from the connection, and so do the SQLSTATEs a server sends
 * before any statement runs: a failed login (class 28), an unknown database (3D000), a
 * connection refused (class 08, 53300 too many connections, 57P03 starting up).
 */
function isStatementError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && !/^(28|08)/.test(state) && !['3D000', '53300', '57P03'].includes(state);
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    query: async <T>(sql: string, params: readonly unknown[] = []) => {
      const result = await client.query(sql, params as unknown[]);
      return result.rows as T[];
    },
  };
}
