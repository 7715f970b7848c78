import { chown, copyFile, lchown, lstat, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { NexoraError } from '../errors.js';

/** Limits on a workspace copy, so a huge tree (a node_modules, a data set) fails fast and says why. */
export interface CopyLimits {
  maxFiles: number;
  maxBytes: number;
}

export const defaultCopyLimits: CopyLimits = { maxFiles: 50_000, maxBytes: 2 * 1024 ** 3 };

/**
 * Copies a workspace tree: regular files, directories and symbolic links (as links, never
 * followed), with their owners kept when we may (as root), so a workstation over the copy runs
 * as the same user. Anything else (sockets, devices) is left out. A copy over the limits is
 * removed and reported.
 */
export async function copyWorkspace(options: { from: string; to: string; limits?: CopyLimits; signal?: AbortSignal }): Promise<{ files: number; bytes: number }> {
  const limits = options.limits ?? defaultCopyLimits;
  const counted = { files: 0, bytes: 0 };
  const asRoot = process.getuid?.() === 0;
  const walk = async (from: string, to: string): Promise<void> => {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'The workspace copy was interrupted.');
    const info = await lstat(from);
    if (info.isDirectory()) {
      await mkdir(to, { mode: info.mode & 0o7777 });
      for (const name of await readdir(from)) await walk(join(from, name), join(to, name));
    } else if (info.isFile()) {
      counted.files++;
      counted.bytes += info.size;
      if (counted.files > limits.maxFiles || counted.bytes > limits.maxBytes) {
        throw new NexoraError('invalid-argument', `The workspace is too large to copy (over ${limits.maxFiles} files or ${Math.round(limits.maxBytes / 1024 ** 2)} MiB).`);
      }
      await copyFile(from, to);
    } else if (info.isSymbolicLink()) {
      await symlink(await readlink(from), to);
    } else {
      return;
    }
    if (asRoot) await (info.isSymbolicLink() ? lchown(to, info.uid, info.gid) : chown(to, info.uid, info.gid));
    if (!info.isSymbolicLink()) await utimes(to, info.atime, info.mtime);
  };
  try {
    await walk(options.from, options.to);
  } catch (error) {
    await rm(options.to, { recursive: true, force: true });
    throw error;
  }
  return counted;
}
