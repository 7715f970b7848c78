import type { BoundedInflater } from '../bounded-inflater.js';
import type { ByteReader } from '../byte-reader.js';
import type { FramebufferMirror } from '../framebuffer-mirror.js';
import type { RfbRect } from '../dirty-region.js';
import { NexoraError } from '../../errors.js';

/** What a rectangle decoder works on: the connection's reader, mirror and zlib streams. */
export interface DecodeContext {
  reader: ByteReader;
  mirror: FramebufferMirror;
  zlibStream: BoundedInflater;
  zrleStream: BoundedInflater;
}

/** Decodes one rectangle (bounds already checked) into the mirror; true when pixels changed. */
export type RectDecoder = (context: DecodeContext, rect: RfbRect) => Promise<boolean>;

export function protocolError(message: string): NexoraError {
  return new NexoraError('rfb-protocol', `The VNC server sent malformed data: ${message}. The connection was closed; check that the server speaks standard RFB 3.8.`);
}

/**
 * Reads a u32 length, waits for that many compressed bytes (they stay in the reader's socket
 * chunks), then inflates them in one synchronous step and returns the output (at most
 * `maxOutput` bytes): a view of the inflaters' shared buffer, to be decoded before the next await.
 */
export async function readCompressed(context: DecodeContext, stream: BoundedInflater, maxOutput: number, what: string): Promise<Buffer> {
  const { reader } = context;
  if (reader.available < 4) await reader.need(4);
  const length = reader.u32();
  // Deflate's worst case is a few bytes per 16 KiB over the input; allow generous slack.
  const maxCompressed = maxOutput + (maxOutput >>> 6) + 1024;
  if (length > maxCompressed) throw protocolError(`a ${what} rectangle claims ${length} compressed bytes, more than its ${maxCompressed}-byte bound`);
  if (reader.available < length) await reader.need(length);
  const chunks: Buffer[] = [];
  for (let remaining = length; remaining > 0; ) {
    const chunk = reader.takeSome(remaining);
    remaining -= chunk.length;
    chunks.push(chunk);
  }
  return stream.inflate(chunks, maxOutput);
}
