import { randomBytes } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readlink, rename, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { NexoraError } from '../errors.js';
import { entryPath, isEntryName } from './descriptor-path.js';
import { readBounded, type FileRead } from './read-bounded.js';
import { changedRefused, describeKind, FileRefusedError, notDirectoryRefused, notRegularRefused, symbolicLinkRefused } from './refusal.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
/** O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (it is refused after fstat). */
export const readFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const directoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const createFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** One entry of a directory, typed from the directory itself (a link is a link, never its target). */
export interface DirectoryEntry {
  name: string;
  kind: 'file' | 'directory' | 'symbolic-link' | 'other';
}

/** What a write found at the target and replaced (a link is replaced, never written through). */
export interface WriteResult {
  replaced?: 'file' | 'symbolic-link';
}

/**
 * A directory held open by descriptor. Every entry is reached through that descriptor (see
 * descriptor-path.ts), opened with O_NOFOLLOW, and checked with fstat on the handle, so a
 * process that swaps names under us can make a call fail but can never make it read, write or
 * walk anything outside the tree. Close it when done.
 */
export class SafeDirectory {
  private constructor(
    private readonly handle: FileHandle,
    /** The directory as messages name it. */
    readonly path: string,
  ) {}

  /**
   * Opens `root` (the caller's own path: links in it are the caller's choice) and then each
   * component of `path` under it without following links. Undefined when something is missing.
   */
  static async open(options: { root: string; path?: string; signal?: AbortSignal }): Promise<SafeDirectory | undefined> {
    throwIfAborted(options.signal);
    let handle: FileHandle;
    try {
      handle = await open(options.root, O_RDONLY | O_DIRECTORY);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      if (errorCode(error) === 'ENOTDIR') throw notDirectoryRefused(options.root, 'a file');
      throw filesystemFailed(options.root, error);
    }
    let current = new SafeDirectory(handle, options.root);
    for (const name of splitPath(options.path ?? '', options.root)) {
      let next: SafeDirectory | undefined;
      try {
        next = await current.directory(name, options.signal ? { signal: options.signal } : {});
      } finally {
        await current.close();
      }
      if (!next) return undefined;
      current = next;
    }
    return current;
  }

  /** The subdirectory `name`, opened without following a link; undefined when absent. */
  async directory(name: string, options: { create?: boolean; signal?: AbortSignal } = {}): Promise<SafeDirectory | undefined> {
    throwIfAborted(options.signal);
    const path = this.entry(name);
    if (options.create) await mkdir(path, { mode: 0o755 }).catch((error: unknown) => (errorCode(error) === 'EEXIST' ? undefined : Promise.reject(filesystemFailed(this.display(name), error))));
    try {
      // O_DIRECTORY makes the kernel refuse anything but a directory: no fstat needed here.
      return new SafeDirectory(await open(path, directoryFlags), this.display(name));
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTDIR' || code === 'ELOOP') throw await this.refusalFor(name, 'directory');
      throw filesystemFailed(this.display(name), error);
    }
  }

  /** The entries, "." and ".." left out. */
  async entries(options: { signal?: AbortSignal } = {}): Promise<DirectoryEntry[]> {
    throwIfAborted(options.signal);
    const found: Dirent[] = await readdir(entryPath(this.handle.fd), { withFileTypes: true }).catch((error: unknown) => Promise.reject(filesystemFailed(this.path, error)));
    return found.map((entry) => ({ name: entry.name, kind: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symbolic-link' : 'other' }));
  }

  /**
   * Opens the regular file `name` for reading: a link, FIFO, socket, device or directory is
   * refused (a link before it is opened, the rest by fstat of the handle). Undefined when absent.
   */
  async openFile(name: string, options: { signal?: AbortSignal } = {}): Promise<{ handle: FileHandle; stats: Stats } | undefined> {
    throwIfAborted(options.signal);
    const path = this.entry(name);
    // Only a courtesy: it spares opening a device in the common case. fstat below is the check.
    const before = await lstat(path).catch((error: unknown) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(filesystemFailed(this.display(name), error))));
    if (!before) return undefined;
    if (!before.isFile()) throw before.isSymbolicLink() ? symbolicLinkRefused(this.display(name)) : notRegularRefused(this.display(name), describeKind(before));
    let handle: FileHandle;
    try {
      handle = await open(path, readFlags);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP') throw symbolicLinkRefused(this.display(name));
      if (code === 'ENXIO') throw notRegularRefused(this.display(name), 'a socket');
      throw filesystemFailed(this.display(name), error);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw notRegularRefused(this.display(name), describeKind(stats));
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Reads the regular file `name`, at most `maxBytes` (see readBounded). Undefined when absent. */
  async readFile(name: string, options: { maxBytes: number; oversize?: 'refuse' | 'truncate'; signal?: AbortSignal }): Promise<FileRead | undefined> {
    const opened = await this.openFile(name, options.signal ? { signal: options.signal } : {});
    if (!opened) return undefined;
    try {
      return await readBounded({ handle: opened.handle, stats: opened.stats, path: this.display(name), maxBytes: options.maxBytes, oversize: options.oversize ?? 'refuse', ...(options.signal ? { signal: options.signal } : {}) });
    } finally {
      await opened.handle.close();
    }
  }

  /**
   * Writes `name` whole or not at all: into a new temporary file beside it (O_CREAT|O_EXCL|
   * O_NOFOLLOW, `mode`), synced, then renamed over the target — a link at the target is replaced,
   * never followed; a directory or special file there is refused. `exclusive` fails when anything
   * (a dangling link included) has the name.
   */
  async writeFile(name: string, data: string | Uint8Array, options: { mode?: number; exclusive?: boolean; signal?: AbortSignal } = {}): Promise<WriteResult> {
    throwIfAborted(options.signal);
    const target = this.entry(name);
    const existing = await lstat(target).catch((error: unknown) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(filesystemFailed(this.display(name), error))));
    if (existing && options.exclusive) throw alreadyExists(this.display(name));
    if (existing && !existing.isFile() && !existing.isSymbolicLink()) throw notRegularRefused(this.display(name), describeKind(existing));
    const temporary = this.entry(`.${name.slice(0, 64)}.${randomBytes(6).toString('hex')}.nexora-tmp`);
    const handle = await open(temporary, createFlags, options.mode ?? 0o644).catch((error: unknown) => Promise.reject(filesystemFailed(this.display(name), error)));
    let placed = false;
    try {
      await handle.writeFile(data);
      await handle.sync();
      await handle.close();
      throwIfAborted(options.signal);
      try {
        // link(2) fails on any existing name: the exclusive case stays atomic without O_EXCL on the target.
        if (options.exclusive) await link(temporary, target);
        else await rename(temporary, target);
      } catch (error) {
        if (errorCode(error) === 'EEXIST') throw alreadyExists(this.display(name));
        if (errorCode(error) === 'EISDIR' || errorCode(error) === 'ENOTDIR') throw notRegularRefused(this.display(name), 'a directory');
        throw filesystemFailed(this.display(name), error);
      }
      placed = !options.exclusive;
      await this.handle.sync().catch(() => undefined);
    } finally {
      await handle.close().catch(() => undefined);
      if (!placed) await unlink(temporary).catch(() => undefined);
    }
    if (existing?.isSymbolicLink()) return { replaced: 'symbolic-link' };
    return existing ? { replaced: 'file' } : {};
  }

  /** Creates the regular file `name` (never over anything that exists, never through a link). */
  async createFile(name: string, mode: number): Promise<FileHandle> {
    return open(this.entry(name), createFlags, mode).catch((error: unknown) => Promise.reject(filesystemFailed(this.display(name), error)));
  }

  /** Creates the subdirectory `name` and opens it. */
  async makeDirectory(name: string, mode = 0o700): Promise<SafeDirectory> {
    await mkdir(this.entry(name), { mode }).catch((error: unknown) => Promise.reject(filesystemFailed(this.display(name), error)));
    const made = await this.directory(name);
    if (!made) throw changedRefused(this.display(name));
    return made;
  }

  /** A link's target, as text: read, never followed. */
  async readLink(name: string): Promise<string> {
    return readlink(this.entry(name)).catch((error: unknown) => Promise.reject(errorCode(error) === 'EINVAL' ? changedRefused(this.display(name)) : filesystemFailed(this.display(name), error)));
  }

  /**
   * Renames the entry `from` to `to` in this directory (a link is renamed, never followed; both
   * names are looked up through the descriptor, so a swapped parent cannot redirect it). Refuses
   * to replace anything already at `to`. Undefined when `from` is gone.
   */
  async rename(from: string, to: string): Promise<true | undefined> {
    const source = this.entry(from);
    const target = this.entry(to);
    if (await this.lstat(to)) throw alreadyExists(this.display(to));
    try {
      await rename(source, target);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw filesystemFailed(this.display(from), error);
    }
  }

  /** Creates a symbolic link `name` with this text as its target. */
  async makeLink(name: string, target: string): Promise<void> {
    await symlink(target, this.entry(name)).catch((error: unknown) => Promise.reject(filesystemFailed(this.display(name), error)));
  }

  /** The entry's own lstat (a link is described, not followed); undefined when absent. */
  async lstat(name: string): Promise<Stats | undefined> {
    return lstat(this.entry(name)).catch((error: unknown) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(filesystemFailed(this.display(name), error))));
  }

  /** The path of `name` as the kernel resolves it through this descriptor (for calls that take a path and do not follow its last component). */
  entry(name: string): string {
    if (!isEntryName(name)) throw new FileRefusedError({ reason: 'invalid-path', path: this.path, message: `${JSON.stringify(name)} is not a plain file name in ${this.path}.` });
    return entryPath(this.handle.fd, name);
  }

  /** The directory's own handle (fstat, fchmod, fchown, futimes on the directory itself). */
  get fileHandle(): FileHandle {
    return this.handle;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private display(name: string): string {
    return join(this.path, name);
  }

  private async refusalFor(name: string, wanted: 'directory'): Promise<FileRefusedError> {
    const stats = await lstat(this.entry(name)).catch(() => undefined);
    if (!stats) return changedRefused(this.display(name));
    if (stats.isSymbolicLink()) return symbolicLinkRefused(this.display(name));
    return wanted === 'directory' ? notDirectoryRefused(this.display(name), describeKind(stats).replace('a special file', 'a file')) : changedRefused(this.display(name));
  }
}

/** Splits a relative path into names, refusing absolute paths, `..` and anything else that could leave the root. */
export function splitPath(path: string, root: string): string[] {
  const names = path.split('/').filter((name) => name !== '' && name !== '.');
  if (path.startsWith('/') || names.some((name) => !isEntryName(name))) {
    throw new FileRefusedError({ reason: 'invalid-path', path: root, message: `${JSON.stringify(path)} is not a relative path inside ${root} (absolute, or with ".."): name a file under it.` });
  }
  return names;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NexoraError('aborted', 'The file operation was interrupted.', { cause: signal.reason });
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function alreadyExists(path: string): FileRefusedError {
  return new FileRefusedError({ reason: 'already-exists', path, message: `${path} already exists.` });
}

function filesystemFailed(path: string, error: unknown): NexoraError {
  if (NexoraError.is(error)) return error;
  const code = errorCode(error);
  return new NexoraError('filesystem-failed', `Cannot use ${path}${code ? ` (${code})` : ''}: check that it exists and that you may read and write it.`, { cause: error });
}
