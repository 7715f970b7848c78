import { lchown, mkdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { NexoraError } from '../errors.js';
import { entryPath } from './descriptor-path.js';
import { changedRefused, FileRefusedError, formatBytes, refusalReason } from './refusal.js';
import { SafeDirectory, throwIfAborted, type DirectoryEntry } from './safe-directory.js';

/** Limits on a copy, so a huge tree fails fast and says why. Entries count files, directories and links. */
export interface CopyLimits {
  maxEntries: number;
  maxBytes: number;
}

/** What a copy made. */
export interface CopyResult {
  files: number;
  directories: number;
  links: number;
  bytes: number;
  /** Sockets, FIFOs and devices: never opened, not copied. */
  skipped: number;
}

/** Deeper than this is refused: each level holds a descriptor open. */
export const maxCopyDepth = 128;
/** An entry that changes kind under us is looked at again this many times before the copy gives up. */
const maxAttempts = 3;
const chunkBytes = 1024 * 1024;

/**
 * Copies the tree at `from` to a new directory `to` (which must not exist; its parent is the
 * caller's) without following a link anywhere under `from`:
 * - regular files are opened by descriptor (O_NOFOLLOW, fstat'd) and copied in bounded reads;
 * - directories are walked by descriptor;
 * - symbolic links are copied as links (their target text, never read through): a snapshot of a
 *   project keeps its `node_modules/.bin` links, and the host never follows them;
 * - sockets, FIFOs and devices are skipped, never opened.
 * Permission bits are kept (set-id and sticky bits dropped), times too; owners only with
 * `keepOwners` (as root). Both sides are reached by descriptor. On any failure the copy is
 * removed and the error says why.
 */
export async function copyTree(options: { from: string; to: string; limits: CopyLimits; keepOwners?: boolean; signal?: AbortSignal }): Promise<CopyResult> {
  const counted: CopyResult = { files: 0, directories: 0, links: 0, bytes: 0, skipped: 0 };
  const source = await SafeDirectory.open({ root: options.from });
  if (!source) throw new NexoraError('invalid-argument', `Cannot copy ${options.from}: it does not exist.`);
  let created = false;
  try {
    await mkdir(options.to, { mode: 0o700 }).catch((error: unknown) => {
      throw new NexoraError((error as NodeJS.ErrnoException).code === 'EEXIST' ? 'already-exists' : 'filesystem-failed', `Cannot copy to ${options.to}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it already exists' : (error as Error).message}.`, { cause: error });
    });
    created = true;
    const target = await SafeDirectory.open({ root: options.to });
    if (!target) throw new NexoraError('filesystem-failed', `Cannot open the copy ${options.to} that was just made.`);
    const copier = new TreeCopier({ limits: options.limits, counted, keepOwners: options.keepOwners ?? false, ...(options.signal ? { signal: options.signal } : {}) });
    try {
      await copier.copyDirectory(source, target, 0);
      await copier.finishDirectory(source.fileHandle, target.fileHandle);
    } finally {
      await target.close();
    }
    return counted;
  } catch (error) {
    if (created) await rm(options.to, { recursive: true, force: true });
    throw error;
  } finally {
    await source.close();
  }
}

class TreeCopier {
  private readonly buffer = Buffer.alloc(chunkBytes);

  constructor(private readonly options: { limits: CopyLimits; counted: CopyResult; keepOwners: boolean; signal?: AbortSignal }) {}

  async copyDirectory(from: SafeDirectory, to: SafeDirectory, depth: number): Promise<void> {
    if (depth >= maxCopyDepth) throw new FileRefusedError({ reason: 'too-deep', path: from.path, message: `${from.path} is nested more than ${maxCopyDepth} directories deep: Nexora does not copy a tree that deep.` });
    for (const entry of await from.entries()) await this.copyEntry(from, to, entry, depth);
  }

  /**
   * Copies one entry as the kind it is now. An entry refused for its kind (it turned into a link,
   * a FIFO… after it was listed) is looked at again and copied as what it has become; one that
   * keeps changing fails the copy. Only a refusal of this entry itself is retried (nothing of it
   * has been made yet then), never one from deeper in the tree.
   */
  private async copyEntry(from: SafeDirectory, to: SafeDirectory, listed: DirectoryEntry, depth: number): Promise<void> {
    const path = join(from.path, listed.name);
    let kind: DirectoryEntry['kind'] = listed.kind;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(this.options.signal);
      try {
        await this.copyAs(kind, from, to, listed.name, depth);
        return;
      } catch (error) {
        const reason = refusalReason(error);
        const retryable = (error as Partial<FileRefusedError>).path === path && (reason === 'symbolic-link' || reason === 'not-regular-file' || reason === 'not-directory' || reason === 'changed');
        if (!retryable) throw error;
        if (attempt >= maxAttempts) throw changedRefused(path);
        const now = await from.lstat(listed.name);
        if (now === undefined) return;
        kind = now.isFile() ? 'file' : now.isDirectory() ? 'directory' : now.isSymbolicLink() ? 'symbolic-link' : 'other';
      }
    }
  }

  private async copyAs(kind: DirectoryEntry['kind'], from: SafeDirectory, to: SafeDirectory, name: string, depth: number): Promise<void> {
    if (kind === 'other') {
      this.options.counted.skipped++;
      return;
    }
    this.countEntry(from.path);
    if (kind === 'symbolic-link') {
      await to.makeLink(name, await from.readLink(name));
      if (this.options.keepOwners) {
        const stats = await from.lstat(name);
        if (stats) await lchown(entryPath(to.fileHandle.fd, name), stats.uid, stats.gid);
      }
      this.options.counted.links++;
      return;
    }
    if (kind === 'directory') {
      const child = await from.directory(name);
      if (!child) return;
      try {
        const made = await to.makeDirectory(name);
        try {
          await this.copyDirectory(child, made, depth + 1);
          await this.finishDirectory(child.fileHandle, made.fileHandle);
        } finally {
          await made.close();
        }
      } finally {
        await child.close();
      }
      this.options.counted.directories++;
      return;
    }
    const opened = await from.openFile(name);
    if (!opened) return;
    try {
      const output = await to.createFile(name, 0o600);
      try {
        await this.copyBytes(opened.handle, output, join(from.path, name));
        await output.chmod(opened.stats.mode & 0o777);
        if (this.options.keepOwners) await output.chown(opened.stats.uid, opened.stats.gid);
        await output.utimes(opened.stats.atime, opened.stats.mtime);
      } finally {
        await output.close();
      }
    } finally {
      await opened.handle.close();
    }
    this.options.counted.files++;
  }

  /** A directory's mode, owner and times, once its entries are in (writing them changed its mtime). */
  async finishDirectory(from: FileHandle, to: FileHandle): Promise<void> {
    const stats = await from.stat();
    await to.chmod(stats.mode & 0o777);
    if (this.options.keepOwners) await to.chown(stats.uid, stats.gid);
    await to.utimes(stats.atime, stats.mtime);
  }

  /** Copies until end of file, counting against the byte budget as it goes (fstat's size is not trusted). */
  private async copyBytes(input: FileHandle, output: FileHandle, path: string): Promise<void> {
    let position = 0;
    for (;;) {
      throwIfAborted(this.options.signal);
      const { bytesRead } = await input.read(this.buffer, 0, chunkBytes, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      this.options.counted.bytes += bytesRead;
      if (this.options.counted.bytes > this.options.limits.maxBytes) throw this.tooLarge(path);
      await output.write(this.buffer, 0, bytesRead);
    }
  }

  private countEntry(path: string): void {
    const { counted, limits } = this.options;
    if (counted.files + counted.directories + counted.links + 1 > limits.maxEntries) throw this.tooLarge(path);
  }

  private tooLarge(path: string): FileRefusedError {
    const { limits } = this.options;
    return new FileRefusedError({ reason: 'too-large', path, message: `The tree is too large to copy (over ${limits.maxEntries} entries or ${formatBytes(limits.maxBytes)}; reached at ${path}).` });
  }
}

