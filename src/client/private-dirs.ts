import { chmodSync, lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { NexoraError } from '../errors.js';

/**
 * The rules for the places only the user may reach: the Nexora home, the directory of the
 * server's socket and the socket itself. Another local user who could own or write one of them
 * could stand in for the server and be sent provider keys and environments, so a client checks
 * them before every connection and the server before it listens or removes a stale socket.
 * (node:fs only: the client bundle carries this.)
 */

/** The group's and others' permission bits: any of them makes a place shared. */
const sharedBits = 0o077;
const sharedWriteBits = 0o022;

/** This process's uid, or undefined where there is none (Windows: no Unix permissions to check). */
export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * Before connecting to the server's socket: 'absent' when it or its directory does not exist
 * (nothing to connect to: the caller must not connect, so nothing can appear in between),
 * 'present' when both are the user's own and private. Anything else throws `not-private`,
 * and the socket is left where it is.
 */
export function checkServerSocket(socket: string, uid: number | undefined = currentUid()): 'absent' | 'present' {
  if (uid === undefined) return 'present';
  const dir = dirname(socket);
  const dirStats = lstatIfExists(dir);
  if (!dirStats) return 'absent';
  // A link the user made (a home moved to another disk) is followed; one of another user's
  // could be pointed elsewhere between this check and the connection.
  if (dirStats.isSymbolicLink() && dirStats.uid !== uid) refuse({ what: "server socket's directory", path: dir, stats: dirStats, problem: "is another user's symbolic link", uid });
  const target = dirStats.isSymbolicLink() ? statIfExists(dir) : dirStats;
  if (!target) return 'absent';
  checkPrivate({ what: "server socket's directory", path: dir, stats: target, uid, kind: 'directory' });
  const socketStats = lstatIfExists(socket);
  if (!socketStats) return 'absent';
  checkPrivate({ what: 'server socket', path: socket, stats: socketStats, uid, kind: 'socket' });
  return 'present';
}

/**
 * The server's side, for a socket directory outside the home (in `$XDG_RUNTIME_DIR` or the
 * temporary directory): created 0700 when missing; one that exists must be a real directory
 * (not a link), the user's own and private — a directory someone else made there first is
 * refused, never used or changed.
 */
export function preparePrivateDirectory(dir: string, uid: number | undefined = currentUid()): void {
  let created = false;
  try {
    mkdirSync(dir, { mode: 0o700 });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (uid === undefined) return;
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink()) refuse({ what: "server socket's directory", path: dir, stats, problem: 'is a symbolic link', uid });
  // Ours since a moment ago, in a directory whose sticky bit keeps others from swapping it: a
  // umask narrower than 077 (mkdir only ever narrows the mode) would leave it unusable.
  if (created && (stats.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  checkPrivate({ what: "server socket's directory", path: dir, stats: created ? lstatSync(dir) : stats, uid, kind: 'directory' });
}

/**
 * The Nexora home: created 0700 when `create` (with any missing parents); refused when it is
 * another user's or the group or others may write it (they could have replaced the socket, the
 * lock, the config or the master key: tightening it would hide that); a home others may only
 * read — what versions before 2026-12-08 created — is tightened to 0700, since its logs,
 * config and screenshots are the user's alone.
 */
export function securePrivateHome(home: string, options: { create: boolean }, uid: number | undefined = currentUid()): void {
  if (options.create) mkdirSync(home, { recursive: true, mode: 0o700 });
  if (uid === undefined) return;
  // Followed: a home may be a link the user made to another disk.
  const stats = statIfExists(home);
  if (!stats) return;
  const facts = { what: 'Nexora home', path: home, stats, uid };
  if (stats.uid !== uid) refuse({ ...facts, problem: 'belongs to another user' });
  if (!stats.isDirectory()) refuse({ ...facts, problem: 'is not a directory' });
  if ((stats.mode & sharedWriteBits) !== 0) refuse({ ...facts, problem: 'is writable by other users' });
  if ((stats.mode & sharedBits) !== 0) chmodSync(home, stats.mode & 0o700);
}

interface Facts {
  what: string;
  path: string;
  stats: Stats;
  uid: number;
}

function checkPrivate(facts: Facts & { kind: 'directory' | 'socket' }): void {
  const { stats, uid, kind } = facts;
  if (stats.uid !== uid) refuse({ ...facts, problem: 'belongs to another user' });
  if (kind === 'directory' && !stats.isDirectory()) refuse({ ...facts, problem: 'is not a directory' });
  if (kind === 'socket' && !stats.isSocket()) refuse({ ...facts, problem: 'is not a socket' });
  if ((stats.mode & sharedBits) !== 0) refuse({ ...facts, problem: 'is open to other users' });
}

/** For a place the user cannot fix, how to do without it. */
const elsewhere: Record<string, string> = {
  'Nexora home': ', or set NEXORA_HOME to a directory of your own',
  "server socket's directory": ', or set NEXORA_HOME to a path short enough to hold the socket',
};

function refuse(facts: Facts & { problem: string }): never {
  const { what, path, stats, uid, problem } = facts;
  const found = `owner uid ${stats.uid}, mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}; you are uid ${uid}`;
  const fix = stats.uid !== uid
    ? `another user may be posing as your Nexora server: do not use it, have its owner or an administrator remove it${elsewhere[what] ?? ''}`
    : (problem === 'is open to other users' || problem === 'is writable by other users') && !stats.isSocket()
      ? `check that nothing in it is another user's, then \`chmod 700 ${path}\``
      : `remove it (\`rm ${stats.isDirectory() ? '-r ' : ''}${path}\`) and try again`;
  throw new NexoraError('not-private', `The ${what} ${path} ${problem} (${found}), so Nexora will not use it: ${fix}.`);
}

/** Undefined when nothing is there, also when a part of the path is a file (ENOTDIR): whoever creates it reports that. */
function lstatIfExists(path: string): Stats | undefined {
  return absentAsUndefined(() => lstatSync(path, { throwIfNoEntry: false }));
}

function statIfExists(path: string): Stats | undefined {
  return absentAsUndefined(() => statSync(path, { throwIfNoEntry: false }));
}

function absentAsUndefined(read: () => Stats | undefined): Stats | undefined {
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}
