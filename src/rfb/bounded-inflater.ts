import { Inflate, Z_SYNC_FLUSH } from 'pako';
import { NexoraError } from '../errors.js';

/**
 * The largest output buffer kept between rectangles. A full 1280×800 ZRLE frame inflates to
 * at most ~3 MiB; bigger rectangles get a buffer of their own that is dropped afterwards.
 */
const keptOutputBytes = 8 * 1024 * 1024;

/**
 * The one output buffer every connection's rectangles inflate into. Inflating and decoding a
 * rectangle run synchronously (`inflate` is only called with the rectangle's whole compressed
 * bytes, and decoders do not await after it), so one buffer serves every connection: 50
 * sessions' first full-screen updates arriving together hold one frame's output, not 50
 * (each 64 KiB pako chunk is copied in and dropped, never concatenated at the end).
 */
let sharedOutput = new Uint8Array(256 * 1024);

function outputOfAtLeast(bytes: number, current: Uint8Array, used: number): Uint8Array {
  if (current.length >= bytes) return current;
  const grown = new Uint8Array(Math.max(bytes, Math.min(current.length * 2, keptOutputBytes)));
  grown.set(current.subarray(0, used));
  if (grown.length <= keptOutputBytes) sharedOutput = grown;
  return grown;
}

/**
 * One persistent zlib stream of an RFB connection (the server keeps one deflate stream per
 * encoding for the whole connection). Output is capped at the most the rectangle can
 * legitimately need, so a compression bomb fails fast instead of allocating.
 */
export class BoundedInflater {
  readonly #inflate: Inflate;
  readonly #name: string;
  #output: Uint8Array = sharedOutput;
  #size = 0;
  #limit = 0;

  constructor(name: string) {
    this.#name = name;
    this.#inflate = new Inflate({ windowBits: 15, chunkSize: 64 * 1024 });
    this.#inflate.onData = (chunk) => {
      const size = this.#size + chunk.length;
      if (size > this.#limit) {
        throw new NexoraError('rfb-protocol', `The VNC server's ${this.#name} data inflates to more than the ${this.#limit} bytes its rectangle allows.`);
      }
      this.#output = outputOfAtLeast(size, this.#output, this.#size);
      this.#output.set(chunk, this.#size);
      this.#size = size;
    };
  }

  /**
   * Inflates one rectangle's whole compressed data (its chunks, in order), at most `maxBytes`
   * of output. The result is a view of a buffer shared by every connection: read it before
   * anything else inflates (before the next await).
   */
  inflate(compressed: readonly Uint8Array[], maxBytes: number): Buffer {
    this.#output = sharedOutput;
    this.#size = 0;
    this.#limit = maxBytes;
    for (const chunk of compressed) {
      if (chunk.length === 0) continue;
      this.#inflate.push(chunk, Z_SYNC_FLUSH);
      if (this.#inflate.err !== 0 || this.#inflate.ended) {
        throw new NexoraError('rfb-protocol', `The VNC server sent a corrupt ${this.#name} stream (${this.#inflate.msg || 'stream ended'}).`);
      }
    }
    const output = this.#output;
    // A rectangle bigger than the kept buffer must not pin its own buffer in this inflater.
    this.#output = sharedOutput;
    return Buffer.from(output.buffer, output.byteOffset, this.#size);
  }
}
