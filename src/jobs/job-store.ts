import { openDatabase, type Db } from '../store/index.js';

/** How long a job given no store waits for another process to release the embedded database. */
const waitMs = 5_000;

/**
 * The store for a job called without one (a test, a script): DATABASE_URL, else the embedded
 * database. In the server every job is given the server's own store instead.
 */
export async function openJobDatabase(): Promise<Db> {
  return openDatabase({ waitMs });
}
