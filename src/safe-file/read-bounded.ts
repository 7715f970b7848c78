import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { NexoraError } from '../errors.js';
import { tooLargeRefused } from './refusal.js';

/** What a bounded read got. */
export interface FileRead {
  /** At most the limit's worth of bytes. */
  bytes: Buffer;
  /** The file held more than the limit (only with `oversize: 'truncate'`; 'refuse' throws instead). */
  truncated: boolean;
  /** The file's size for messages: what fstat said, or what was read if that is more. Never used to size a buffer. */
  sizeBytes: number;
  /** fstat of the very handle read (kind, mode, birth time of what was read, not of a name). */
  stats: Stats;
}

const chunkBytes = 64 * 1024;

/**
 * Reads an open regular file from its start, never more than `maxBytes + 1` bytes: the size
 * fstat reports is the writer's to change, so it sizes nothing; the read stops at end of file
 * (a short read) or one byte past the limit, which is how "over the limit" is known.
 */
export async function readBounded(options: { handle: FileHandle; stats: Stats; path: string; maxBytes: number; oversize: 'refuse' | 'truncate'; signal?: AbortSignal }): Promise<FileRead> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    if (options.signal?.aborted) throw new NexoraError('aborted', `Reading ${options.path} was interrupted.`, { cause: options.signal.reason });
    const want = Math.min(chunkBytes, options.maxBytes + 1 - total);
    const buffer = Buffer.alloc(want);
    const { bytesRead } = await options.handle.read(buffer, 0, want, total);
    if (bytesRead > 0) chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (bytesRead < want || total > options.maxBytes) break;
  }
  const over = total > options.maxBytes;
  if (over && options.oversize === 'refuse') throw tooLargeRefused(options.path, options.maxBytes);
  const all = Buffer.concat(chunks, total);
  return { bytes: over ? all.subarray(0, options.maxBytes) : all, truncated: over, sizeBytes: Math.max(options.stats.size, total), stats: options.stats };
}
