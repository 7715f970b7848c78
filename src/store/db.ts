/** Anything SQL can be sent to: a database, or one transaction on it. */
export interface Queryable {
  /** Runs one statement with `$1…` parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/**
 * One PostgreSQL dialect over two engines: embedded PGlite (the default, zero set-up) and a
 * PostgreSQL server through a node-postgres pool (when DATABASE_URL is set).
 */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** The data directory or the server URL with its password masked: safe to print. */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on one dedicated connection: session-level locks and multi-statement scripts. */
  withConnection<T>(fn: (connection: ScriptConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A single connection that can also run multi-statement scripts (migrations need one). */
export interface ScriptConnection extends Queryable {
  exec(sql: string): Promise<void>;
}

/** Runs `fn` in a transaction when given a Db, or inside the caller's transaction when given one. */
export async function inTransaction<T>(target: Db | Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return isDb(target) ? target.transaction(fn) : fn(target);
}

/** Whether `target` is a whole database (rather than one transaction on it). */
export function isDb(target: Db | Queryable): target is Db {
  return typeof (target as Partial<Db>).transaction === 'function';
}
