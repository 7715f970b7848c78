import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { NexoraError } from '../errors.js';
import { readBounded, type FileRead } from './read-bounded.js';
import { describeKind, notRegularRefused } from './refusal.js';
import { errorCode, readFlags, SafeDirectory, splitPath, type WriteResult } from './safe-directory.js';

/**
 * Reads `path` (relative, under `root`) without following a link anywhere under the root, and
 * only if it is a regular file; at most `maxBytes` (`oversize` says whether more is an error or
 * a truncation). Undefined when it or a directory on the way does not exist.
 */
export async function readFileUnder(options: { root: string; path: string; maxBytes: number; oversize?: 'refuse' | 'truncate'; signal?: AbortSignal }): Promise<FileRead | undefined> {
  const names = splitPath(options.path, options.root);
  const file = names.pop();
  if (file === undefined) throw new NexoraError('invalid-argument', `readFileUnder needs a file name under ${options.root}.`);
  const directory = await SafeDirectory.open({ root: options.root, path: names.join('/'), ...(options.signal ? { signal: options.signal } : {}) });
  if (!directory) return undefined;
  try {
    return await directory.readFile(file, options);
  } finally {
    await directory.close();
  }
}

/**
 * Writes `path` (relative, under `root`) whole or not at all, through a temporary file and a
 * rename in the same directory; a directory on the way that is a link is refused, a link at the
 * target is replaced (never followed). See SafeDirectory.writeFile.
 */
export async function writeFileUnder(options: { root: string; path: string; data: string | Uint8Array; mode?: number; exclusive?: boolean; signal?: AbortSignal }): Promise<WriteResult> {
  const names = splitPath(options.path, options.root);
  const file = names.pop();
  if (file === undefined) throw new NexoraError('invalid-argument', `writeFileUnder needs a file name under ${options.root}.`);
  const directory = await SafeDirectory.open({ root: options.root, path: names.join('/'), ...(options.signal ? { signal: options.signal } : {}) });
  if (!directory) throw new NexoraError('filesystem-failed', `Cannot write ${options.root}/${options.path}: its directory does not exist.`);
  try {
    return await directory.writeFile(file, options.data, options);
  } finally {
    await directory.close();
  }
}

/**
 * Reads a file whose path the user chose (their own config, a file named on the command line):
 * links in it are followed — they are the user's — but it must be a regular file (so a FIFO
 * cannot hang the host), and at most `maxBytes` are read. Undefined when it does not exist.
 */
export async function readRegularFile(options: { path: string; maxBytes: number; oversize?: 'refuse' | 'truncate'; signal?: AbortSignal }): Promise<FileRead | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(options.path, readFlags & ~constants.O_NOFOLLOW);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    if (errorCode(error) === 'ENXIO') throw notRegularRefused(options.path, 'a socket');
    throw new NexoraError('filesystem-failed', `Cannot read ${options.path} (${errorCode(error) ?? 'error'}): check that it exists and that you may read it.`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegularRefused(options.path, describeKind(stats));
    return await readBounded({ handle, stats, path: options.path, maxBytes: options.maxBytes, oversize: options.oversize ?? 'refuse', ...(options.signal ? { signal: options.signal } : {}) });
  } finally {
    await handle.close();
  }
}
