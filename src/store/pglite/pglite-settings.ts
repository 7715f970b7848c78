import { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL settings sized for Nexora's store (a few hundred rows of sessions and keys, an
 * event log in the megabytes), not for a database server. They are passed as `-c` start
 * parameters, so every start applies them whatever `postgresql.conf` in the directory says,
 * and initdb's own file (time zone, locale, text search) stays as it wrote it.
 *
 * WebAssembly memory never shrinks: whatever a setting lets PostgreSQL touch once stays in the
 * process's RSS for its life. Shared memory is the big one (emscripten zeroes it at start, so
 * all of shared_buffers is resident from the first second); the others bound what one query or
 * one maintenance command can grow the heap to. Durability settings (synchronous_commit,
 * full_page_writes, wal_level) are left as PGlite has them.
 */
export const pgliteSettings = {
  // The whole store fits many times over; reads past it come from the OS page cache.
  shared_buffers: '4MB',
  wal_buffers: '256kB',
  // One sort or hash per query: the store's biggest (events of one session by seq) is small.
  work_mem: '1MB',
  // CREATE INDEX in migrations, VACUUM.
  maintenance_work_mem: '8MB',
  temp_buffers: '1MB',
  // One backend in single-user mode; the proc array and lock table are sized from these.
  max_connections: '5',
  max_locks_per_transaction: '32',
  max_prepared_transactions: '0',
  max_wal_senders: '0',
  max_replication_slots: '0',
} as const satisfies Record<string, string>;

/** PGlite's own start parameters followed by Nexora's settings. */
export function pgliteStartParams(): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(pgliteSettings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}
