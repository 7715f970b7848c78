import type { Stats } from 'node:fs';
import { NexoraError } from '../errors.js';

/** Why a workspace file was refused. */
export type RefusalReason = 'symbolic-link' | 'not-regular-file' | 'not-directory' | 'too-large' | 'invalid-path' | 'already-exists' | 'changed' | 'too-deep';

/**
 * A file or directory the host would not touch. The message names the path and says what it
 * is; it never quotes the file's content or a link's target (both are the workspace's words).
 */
export class FileRefusedError extends NexoraError {
  readonly reason: RefusalReason;
  /** The path as the message names it (root joined with the path under it). */
  readonly path: string;

  constructor(options: { reason: RefusalReason; path: string; message: string; cause?: unknown }) {
    super(options.reason === 'already-exists' ? 'already-exists' : 'unsafe-workspace', options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FileRefusedError';
    this.reason = options.reason;
    this.path = options.path;
  }
}

/** The reason a safe-file refusal gives, or undefined for any other error (works across module copies). */
export function refusalReason(error: unknown): RefusalReason | undefined {
  if (!NexoraError.is(error)) return undefined;
  const reason = (error as Partial<FileRefusedError>).reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** "a directory", "a named pipe (FIFO)"…: what a non-regular entry is, for a message. */
export function describeKind(stats: Pick<Stats, 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'a special file';
}

export function symbolicLinkRefused(path: string): FileRefusedError {
  return new FileRefusedError({
    reason: 'symbolic-link',
    path,
    message: `${path} is a symbolic link: Nexora does not follow links in a workspace (one could point at any file on this machine). Replace it with the file or directory itself.`,
  });
}

export function notRegularRefused(path: string, kind: string): FileRefusedError {
  return new FileRefusedError({ reason: 'not-regular-file', path, message: `${path} is ${kind}, not a regular file: Nexora reads and writes only regular files in a workspace.` });
}

export function notDirectoryRefused(path: string, kind: string): FileRefusedError {
  return new FileRefusedError({ reason: 'not-directory', path, message: `${path} is ${kind}, not a directory: Nexora walks only real directories in a workspace.` });
}

export function tooLargeRefused(path: string, maxBytes: number): FileRefusedError {
  return new FileRefusedError({ reason: 'too-large', path, message: `${path} is over the ${formatBytes(maxBytes)} limit for this file: make it smaller.` });
}

export function changedRefused(path: string): FileRefusedError {
  return new FileRefusedError({ reason: 'changed', path, message: `${path} kept changing kind while Nexora read it (a process is swapping it): try again once it is still.` });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
