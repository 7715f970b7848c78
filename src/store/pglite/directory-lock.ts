import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { NexoraError } from '../../errors.js';

/** Who holds a data directory, as the holder reports it. */
export interface LockHolder {
  pid: number;
  since: string;
}

export interface DirectoryLock {
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  directory: string;
  /** How long to wait for the holder to let go before failing; 0 fails at once. */
  waitMs?: number;
  signal?: AbortSignal;
  /** 'auto' (default): an abstract socket on Linux, a pid file elsewhere. */
  strategy?: 'auto' | 'pid-file';
}

const pollMs = 200;

/**
 * Makes one process the owner of an embedded database directory. PGlite keeps PostgreSQL's
 * single-user state in memory and writes the files directly, so a second process opening the
 * same directory would corrupt it.
 *
 * On Linux the lock is an abstract Unix socket named after the directory: binding it is
 * atomic, and the kernel frees it when the owner exits, even on SIGKILL, so there is never a
 * stale lock to clean up. A process that finds it taken asks the owner for its pid to name it
 * in the error. Elsewhere a pid file created with O_EXCL stands in, cleared when its pid is
 * gone.
 */
export async function acquireDirectoryLock(options: AcquireLockOptions): Promise<DirectoryLock> {
  const directory = realpathSync(options.directory);
  const deadline = Date.now() + (options.waitMs ?? 0);
  const attempt = process.platform === 'linux' && options.strategy !== 'pid-file' ? tryAbstractSocket : tryPidFile;
  for (;;) {
    if (options.signal?.aborted) {
      throw new NexoraError('aborted', `Gave up waiting for the embedded database at ${directory}.`, { cause: options.signal.reason });
    }
    const outcome = await attempt(directory);
    if ('lock' in outcome) return outcome.lock;
    if (Date.now() >= deadline) throw lockedError(directory, outcome.holder);
    await sleep(pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

type Attempt = { lock: DirectoryLock } | { holder: LockHolder | undefined };

function lockedError(directory: string, holder: LockHolder | undefined): NexoraError {
  const who = holder ? `nexora process ${holder.pid} (since ${holder.since})` : 'another nexora process';
  return new NexoraError(
    'database-locked',
    `The embedded database at ${directory} is in use by ${who}, and only one process can open it at a time. ` +
      'Wait for that process to finish or stop it, then try again; or point DATABASE_URL at a PostgreSQL server, which any number of nexora processes can share.',
  );
}

function socketName(directory: string): string {
  const digest = createHash('sha256').update(directory).digest('hex').slice(0, 40);
  return `\0nexora-pglite-${digest}`;
}

async function tryAbstractSocket(directory: string): Promise<Attempt> {
  const name = socketName(directory);
  const holder: LockHolder = { pid: process.pid, since: new Date().toISOString() };
  const server = createServer((socket) => {
    socket.end(`${JSON.stringify(holder)}\n`);
  });
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    });
    server.listen(name, () => resolve(true));
  });
  if (!bound) return { holder: await askHolder(name) };
  // The lock must not keep the process alive on its own.
  server.unref();
  return { lock: { release: () => closeServer(server) } };
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function askHolder(name: string): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(name);
    const done = (value: LockHolder | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    socket.on('end', () => done(parseHolder(text)));
    socket.on('error', () => done(undefined));
  });
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid === 'number' && typeof value.since === 'string') return { pid: value.pid, since: value.since };
  } catch {
    // Whatever answered is not a nexora process: report no details.
  }
  return undefined;
}

async function tryPidFile(directory: string): Promise<Attempt> {
  const path = `${directory}.lock`;
  const holder: LockHolder = { pid: process.pid, since: new Date().toISOString() };
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, JSON.stringify(holder));
    closeSync(fd);
    const release = () => {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    };
    process.once('exit', release);
    return {
      lock: {
        release: () => {
          process.off('exit', release);
          release();
          return Promise.resolve();
        },
      },
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let current: LockHolder | undefined;
  try {
    current = parseHolder(readFileSync(path, 'utf8'));
  } catch {
    return { holder: undefined };
  }
  if (current && !processAlive(current.pid)) {
    // The owner died without cleaning up; the next attempt takes the directory.
    try {
      unlinkSync(path);
    } catch {
      // Someone else cleared it first.
    }
    return tryPidFile(directory);
  }
  return { holder: current };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
