import { chmodSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { checkServerSocket, preparePrivateDirectory, securePrivateHome } from '../client/private-dirs.js';
import { maxSocketPath, type ServerFiles } from '../client/server-files.js';
import { describeError, NexoraError } from '../errors.js';

/** While the socket is bound: everything it creates gets no group or other bits, directories stay usable. */
const privateUmask = 0o077;

/**
 * Serves `server` on the home's Unix socket: its directory made or checked private first, a
 * stale socket (checked the same way: the user's own, private) removed, and the socket created
 * with its final mode — bound under a umask of 077, so there is no moment where it exists with
 * a wider mode (no listen-then-chmod window), inside a directory only the user may enter.
 */
export async function listenOnPrivateSocket(server: Server, files: Pick<ServerFiles, 'socket' | 'socketDir' | 'socketInHome'>, options: { timeoutMs?: number } = {}): Promise<void> {
  if (files.socket.length > maxSocketPath) {
    throw new NexoraError(
      'invalid-config',
      `The server socket's path ${files.socket} is longer than ${maxSocketPath} bytes, which Unix sockets do not allow: set TMPDIR (or NEXORA_HOME) to a shorter path.`,
    );
  }
  if (files.socketInHome) securePrivateHome(files.socketDir, { create: true });
  else preparePrivateDirectory(files.socketDir);
  await removeStaleSocket(files.socket, options.timeoutMs ?? 1000);
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => reject(new NexoraError('server-unavailable', `The server could not listen on ${files.socket}: ${describeError(error)}.`, { cause: error }));
    server.once('error', failed);
    // The bind happens inside listen(), synchronously (a single process, not a cluster
    // worker): the umask covers exactly it. 077, not 177: a directory created by another
    // thread in that instant must stay usable by the user.
    const previous = setUmask(privateUmask);
    try {
      server.listen({ path: files.socket }, () => {
        server.off('error', failed);
        // A worker thread may not set the umask: there the mode is set after, which the
        // private directory makes safe (nobody else can reach the socket in between).
        if (previous === undefined) chmodSync(files.socket, 0o600);
        resolve();
      });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

/**
 * A socket file left by a dead server is replaced; one that answers means a server runs. It is
 * checked before it is connected to or removed: one that is not the user's own and private is
 * refused and left in place.
 */
async function removeStaleSocket(path: string, timeoutMs: number): Promise<void> {
  if (checkServerSocket(path) === 'absent') return;
  const answers = await new Promise<boolean>((resolve) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (answers) throw new NexoraError('server-running', `Another Nexora server answers on ${path}: use it, or stop it with \`nexora server stop\`.`);
  unlinkSync(path);
}

/** Sets the umask and returns the previous one, or undefined in a worker thread (where Node forbids it). */
function setUmask(mask: number): number | undefined {
  return isMainThread ? process.umask(mask) : undefined;
}
