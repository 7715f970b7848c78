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
