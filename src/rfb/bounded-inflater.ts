import { Inflate, Z_SYNC_FLUSH } from 'pako';
import { NexoraError } from '../errors.js';

/**
 * One persistent zlib stream of an RFB connection (the server keeps one deflate stream per
 * encoding for the whole connection). Each rectangle's compressed bytes are pushed as they
 * arrive and its output is capped at the most that rectangle can legitimately need, so a
 * compression bomb fails fast instead of allocating.
 */
export class BoundedInflater {
  readonly #inflate: Inflate;
  readonly #name: string;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #limit = 0;

  constructor(name: string) {
    this.#name = name;
    this.#inflate = new Inflate({ windowBits: 15, chunkSize: 64 * 1024 });
    this.#inflate.onData = (chunk) => {
      this.#size += chunk.length;
      if (this.#size > this.#limit) {
        throw new NexoraError('rfb-protocol', `The VNC server's ${this.#name} data inflates to more than the ${this.#limit} bytes its rectangle allows.`);
      }
      this.#chunks.push(chunk);
    };
  }

  /** Starts a rectangle whose output may not exceed `maxBytes`. */
  begin(maxBytes: number): void {
    this.#chunks = [];
    this.#size = 0;
    this.#limit = maxBytes;
  }

  push(compressed: Uint8Array): void {
    if (compressed.length === 0) return;
    this.#inflate.push(compressed, Z_SYNC_FLUSH);
    if (this.#inflate.err !== 0 || this.#inflate.ended) {
      throw new NexoraError('rfb-protocol', `The VNC server sent a corrupt ${this.#name} stream (${this.#inflate.msg || 'stream ended'}).`);
    }
  }

  /** The rectangle's whole output. */
  finish(): Buffer {
    const output = Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [];
    return output;
  }
}
