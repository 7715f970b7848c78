import { NexoraError } from '../errors.js';
import { copyTree, refusalReason, type CopyLimits } from '../safe-file/index.js';

export type { CopyLimits };

export const defaultCopyLimits: CopyLimits = { maxEntries: 50_000, maxBytes: 2 * 1024 ** 3 };

/**
 * Copies a workspace tree (for a snapshot or a replay) through safe-file: regular files,
 * directories and symbolic links (as links, never followed), by descriptor, so a workstation
 * that swaps names while the copy runs cannot make the host read or write anything outside
 * the tree. Owners are kept when we may (as root), so a workstation over the copy runs as the
 * same user. Sockets, FIFOs and devices are left out. A copy over the limits is removed and
 * reported.
 */
export async function copyWorkspace(options: { from: string; to: string; limits?: CopyLimits; signal?: AbortSignal }): Promise<{ files: number; bytes: number }> {
  const limits = options.limits ?? defaultCopyLimits;
  try {
    const copied = await copyTree({ from: options.from, to: options.to, limits, keepOwners: process.getuid?.() === 0, ...(options.signal ? { signal: options.signal } : {}) });
    return { files: copied.files, bytes: copied.bytes };
  } catch (error) {
    if (refusalReason(error) === 'too-large') {
      throw new NexoraError('invalid-argument', `The workspace is too large to copy (over ${limits.maxEntries} entries or ${Math.round(limits.maxBytes / 1024 ** 2)} MiB).`, { cause: error });
    }
    throw error;
  }
}
