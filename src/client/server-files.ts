import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NexoraPaths } from '../paths.js';

/** The files a server keeps in its Nexora home. */
export interface ServerFiles {
  /** The API's Unix socket (mode 0600). */
  socket: string;
  /** Held by the running server: its pid, created exclusively. */
  lock: string;
  /** The server's log. */
  log: string;
  /** The bearer token for the TCP listener, when one is asked for (mode 0600). */
  token: string;
}

/** A Unix socket path longer than this does not fit sockaddr_un on Linux and macOS. */
const maxSocketPath = 100;

export function serverFiles(paths: Pick<NexoraPaths, 'home' | 'logs'>): ServerFiles {
  const inHome = join(paths.home, 'server.sock');
  // A deep home cannot hold the socket: use one in the temporary directory named after it.
  const socket = inHome.length <= maxSocketPath ? inHome : join(tmpdir(), `nexora-${createHash('sha256').update(paths.home).digest('hex').slice(0, 16)}.sock`);
  return {
    socket,
    lock: join(paths.home, 'server.pid'),
    log: join(paths.logs, 'server.log'),
    token: join(paths.home, 'server.token'),
  };
}

/**
 * Which store an environment names (DATABASE_URL, password included, or the home's embedded
 * database), as a short hash: a client compares it with the running server's, so a command
 * never works on another store than the one its environment asks for.
 */
export function storeFingerprint(env: NodeJS.ProcessEnv, paths: Pick<NexoraPaths, 'database'>): string {
  const url = env.DATABASE_URL && env.DATABASE_URL.length > 0 ? env.DATABASE_URL : undefined;
  return createHash('sha256').update(url ? `postgres:${url}` : `pglite:${paths.database}`).digest('hex').slice(0, 16);
}
