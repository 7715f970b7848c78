import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeRoots, type NexoraPaths } from '../paths.js';
import { currentUid } from './private-dirs.js';

/** The files a server keeps in its Nexora home. */
export interface ServerFiles {
  /** The API's Unix socket (created mode 0700, in a directory only the user may enter). */
  socket: string;
  /**
   * The socket's directory, the user's own and mode 0700: the home, or when the home's path is
   * too long for a socket, `$XDG_RUNTIME_DIR/nexora-<hash>/` or `<tmp>/nexora-<uid>/` —
   * never a name directly in a shared directory, which another user could take first.
   */
  socketDir: string;
  /** Whether `socketDir` is the home (else a runtime directory the server creates and checks). */
  socketInHome: boolean;
  /** Held by the running server: its pid, created exclusively. */
  lock: string;
  /** The server's log. */
  log: string;
  /** The bearer token for the TCP listener, when one is asked for (mode 0600). */
  token: string;
}

/** A Unix socket path longer than this does not fit sockaddr_un on Linux (108) and macOS (104). */
export const maxSocketPath = 100;

/**
 * The home's server files. Where the socket goes depends on the environment (`XDG_RUNTIME_DIR`,
 * `TMPDIR`) and the uid: a client must pass the environment it starts the server with.
 */
export function serverFiles(paths: Pick<NexoraPaths, 'home' | 'logs'>, env: NodeJS.ProcessEnv = process.env, uid: number | undefined = currentUid()): ServerFiles {
  return {
    ...socketPlace({ home: paths.home, env, uid }),
    lock: join(paths.home, 'server.pid'),
    log: join(paths.logs, 'server.log'),
    token: join(paths.home, 'server.token'),
  };
}

/** Where the server's socket goes for a home: see `ServerFiles.socketDir`. */
export function socketPlace(options: { home: string; env: NodeJS.ProcessEnv; uid: number | undefined }): Pick<ServerFiles, 'socket' | 'socketDir' | 'socketInHome'> {
  const inHome = join(options.home, 'server.sock');
  if (inHome.length <= maxSocketPath) return { socket: inHome, socketDir: options.home, socketInHome: true };
  const tag = createHash('sha256').update(options.home).digest('hex').slice(0, 16);
  const roots = runtimeRoots(options.env);
  if (roots.runtime !== undefined && isPrivateRoot(roots.runtime, options.uid)) {
    const socketDir = join(roots.runtime, `nexora-${tag}`);
    const socket = join(socketDir, 'server.sock');
    if (socket.length <= maxSocketPath) return { socket, socketDir, socketInHome: false };
  }
  const socketDir = join(roots.temporary, `nexora-${options.uid ?? 'user'}`);
  return { socket: join(socketDir, `${tag}.sock`), socketDir, socketInHome: false };
}

/** `$XDG_RUNTIME_DIR` is used only as the spec promises it: a real directory of the user's, mode 0700. */
function isPrivateRoot(dir: string, uid: number | undefined): boolean {
  const stats = lstatSync(dir, { throwIfNoEntry: false });
  return stats !== undefined && stats.isDirectory() && (uid === undefined || stats.uid === uid) && (stats.mode & 0o077) === 0;
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

/** The variables that choose which engine and backend a server drives its workstations on. */
export const engineVariables = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'NEXORA_BACKEND', 'NEXORA_SWARM_MANAGER', 'NEXORA_SWARM_NODES'] as const;

/**
 * The engine settings an environment names (unset and empty alike as null). The server reports
 * the ones it was started with, and a command whose environment names others is refused rather
 * than silently served from another engine.
 */
export function engineSettings(env: NodeJS.ProcessEnv): Record<string, string | null> {
  return Object.fromEntries(engineVariables.map((name) => [name, env[name] || null]));
}
