import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { NexoraError } from '../errors.js';

export interface InstanceLock {
  release(): void;
}

/**
 * One server per Nexora home: the lock file is created exclusively and holds the pid. A lock
 * left by a dead server (SIGKILL, a crash) is detected and taken over.
 */
export function acquireInstanceLock(file: string): InstanceLock {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release: () => {
          if (readLockPid(file) === process.pid) unlinkSync(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new NexoraError('server-unavailable', `Cannot create the server lock ${file}: ${(error as Error).message}. Check that the Nexora home is writable.`, { cause: error });
      }
    }
    const holder = readLockPid(file);
    if (holder !== undefined && isServerProcess(holder)) {
      throw new NexoraError('server-running', `A Nexora server already runs for this home (pid ${holder}). Use it, or stop it with \`nexora server stop\`.`);
    }
    // Stale: moved aside rather than deleted, so that two servers taking it over at once do
    // not delete each other's fresh lock.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
      const moved = readLockPid(aside);
      if (moved !== holder) renameSync(aside, file);
      else unlinkSync(aside);
    } catch {
      // Someone else moved it first: try again.
    }
  }
  throw new NexoraError('server-running', `Could not take the server lock ${file}: another server is starting. Try again.`);
}

/** The pid in a lock file, or undefined when there is none. */
export function readLockPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live Nexora server (not just any process that reused the number). */
export function isServerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: alive but another user's, so not our server either.
    return false;
  }
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return commandLine.includes('serve');
  } catch {
    // No /proc (macOS): trust the signal check.
    return true;
  }
}
