import { relative, isAbsolute } from 'node:path';
import { CommanderError } from 'commander';
import { NexoraError, describeError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { visibleControls } from '../visible-controls.js';

/** The exit statuses the CLI uses: 2 for a command line that cannot be carried out as written. */
export const exitStatus = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export interface Failure {
  /** What to print (one paragraph, no stack), or undefined when commander printed it already. */
  message: string | undefined;
  exitCode: number;
  /** Printed only with NEXORA_DEBUG set: the cause's stack, for a bug report. */
  debug: string | undefined;
}

/**
 * How a failed command ends: its message and exit status. Expected failures (NexoraErrors, and
 * the operating system's errors a user can fix) get one line saying what to do; anything else is
 * a bug and keeps its stack.
 */
export function describeFailure(error: unknown, env: NodeJS.ProcessEnv = process.env): Failure {
  const failure = failureOf(error, env);
  // Error text can quote the workstation (a command's output) or the model: inert on the terminal.
  return { ...failure, message: failure.message === undefined ? undefined : visibleControls(failure.message), debug: failure.debug === undefined ? undefined : visibleControls(failure.debug) };
}

function failureOf(error: unknown, env: NodeJS.ProcessEnv): Failure {
  if (error instanceof CommanderError) {
    // Commander has printed help, the version or its usage error already.
    return { message: undefined, exitCode: error.exitCode === 0 ? exitStatus.ok : exitStatus.usage, debug: undefined };
  }
  const expected = NexoraError.is(error) ? error : expectedError(error, env);
  if (expected) {
    const cause = expected.cause ?? (expected === error ? undefined : error);
    return {
      message: expected.message,
      exitCode: expected.code === 'invalid-argument' ? exitStatus.usage : exitStatus.failed,
      debug: cause === undefined ? undefined : cause instanceof Error ? (cause.stack ?? cause.message) : describeError(cause),
    };
  }
  return {
    message: `unexpected error (a bug: please report it with this output): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    exitCode: exitStatus.failed,
    debug: undefined,
  };
}

interface SystemError {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  message: string;
}

/** Node's errors from the file system: a code such as EACCES, and the call and path that failed. */
function asSystemError(error: unknown): SystemError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, syscall, path } = error as Partial<SystemError>;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code) || typeof syscall !== 'string') return undefined;
  return { code, syscall, message: error.message, ...(typeof path === 'string' ? { path } : {}) };
}

const reasons: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on this system',
};

const actions: Record<string, string> = {
  mkdir: 'create the directory',
  open: 'open',
  read: 'read',
  write: 'write',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove the directory',
  scandir: 'list the directory',
  stat: 'read',
  lstat: 'read',
  copyfile: 'copy',
  chmod: 'change the permissions of',
  symlink: 'link',
  access: 'access',
};

/** The operating system's file errors, worded for a user: what could not be done, where, and how to fix it. */
function expectedError(error: unknown, env: NodeJS.ProcessEnv): NexoraError | undefined {
  const system = asSystemError(error);
  if (!system || !(system.code in reasons) || system.path === undefined) return undefined;
  const action = actions[system.syscall ?? ''] ?? system.syscall ?? 'use';
  const home = nexoraPaths(env).home;
  const inHome = isWithin(system.path, home);
  const fix = inHome
    ? ` Nexora keeps its state in ${home}${env.NEXORA_HOME ? ' (NEXORA_HOME)' : ''}: make that directory writable by you, or set NEXORA_HOME to a directory you own.`
    : system.code === 'ENOSPC' || system.code === 'EDQUOT'
      ? ' Free some space and try again.'
      : '';
  return new NexoraError('filesystem-failed', `Cannot ${action} ${system.path}: ${reasons[system.code]}.${fix}`, { cause: error });
}

function isWithin(path: string, directory: string): boolean {
  const inside = relative(directory, path);
  return inside === '' || (!inside.startsWith('..') && !isAbsolute(inside));
}
