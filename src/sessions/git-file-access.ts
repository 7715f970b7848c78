import { constants } from 'node:fs';
import { lstat, open, realpath, rename } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';

/**
 * The host's reads and moves of files a workstation can write under the workspace's git
 * directories: never through a link, never blocking on a FIFO, nothing but regular files read.
 * (Stands in for the shared safe-file module until it lands.)
 */

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A regular file's first `maxBytes` and its size; undefined for a link, a FIFO, a directory or a missing file. */
export async function readRegularFile(path: string, maxBytes: number): Promise<{ bytes: Buffer; size: number } | undefined> {
  const handle = await open(path, READ_FLAGS).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return undefined;
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { bytes: buffer.subarray(0, bytesRead), size: stats.size };
  } finally {
    await handle.close();
  }
}

/** The suffix of a neutralised file: git reads no file of that name (no hook, config or commondir is named so). */
export const QUARANTINE_MARK = '.nexora-quarantine-';

/**
 * Moves `path` (a file or a link, never followed) aside to `<name>.nexora-quarantine-<stamp>` in
 * the same directory, with its execute bits cleared first, and returns the new path. The
 * directory is resolved and must still lie inside the workspace, so a directory swapped for a
 * link to elsewhere on the host is refused rather than written through.
 */
export async function quarantineFile(path: string, options: { workspaceDir: string; stamp: string }): Promise<string> {
  const root = await realpath(options.workspaceDir);
  const parent = await realpath(dirname(path));
  if (parent !== root && !parent.startsWith(`${root}${sep}`)) throw new Error(`${dirname(path)} now leads outside the workspace`);
  const target = join(parent, basename(path));
  const stats = await lstat(target);
  if (stats.isFile()) {
    const handle = await open(target, READ_FLAGS);
    try {
      const opened = await handle.stat();
      // The same file as the one looked at, and only then its mode changed (through the handle).
      if (opened.isFile() && opened.ino === stats.ino && (opened.mode & 0o111) !== 0) await handle.chmod(opened.mode & 0o666);
    } finally {
      await handle.close();
    }
  }
  const moved = `${target}${QUARANTINE_MARK}${options.stamp}`;
  // rename() acts on the link itself, not its target.
  await rename(target, moved);
  return moved;
}
