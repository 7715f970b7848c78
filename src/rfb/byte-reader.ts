import { NexoraError } from '../errors.js';

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * An incremental reader over socket chunks. Parsers `await need(n)` once for a structure,
 * then read its fields synchronously, so data may arrive in any chunking (even byte by
 * byte) without per-field promises in the common case.
 */
export class ByteReader {
  #chunks: Buffer[] = [];
  #offset = 0;
  #available = 0;
  #failure: Error | undefined;
  #waiter: Waiter | undefined;
  readonly #highWaterMark: number;
  readonly #onPressure: (paused: boolean) => void;
  #paused = false;

  constructor(options: { highWaterMark: number; onPressure: (paused: boolean) => void }) {
    this.#highWaterMark = options.highWaterMark;
    this.#onPressure = options.onPressure;
  }

  get available(): number {
    return this.#available;
  }

  push(chunk: Buffer): void {
    if (this.#failure || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#available += chunk.length;
    const waiter = this.#waiter;
    if (waiter && this.#available >= waiter.bytes) {
      this.#waiter = undefined;
      waiter.resolve();
    }
    // Never pause while a read waits for more: that read could then never complete.
    if (!this.#paused && !this.#waiter && this.#available > this.#highWaterMark) {
      this.#paused = true;
      this.#onPressure(true);
    }
  }

  /** Ends the stream: pending and future waits reject with `error`. */
  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  /** Resolves once `bytes` bytes are buffered. */
  need(bytes: number): Promise<void> {
    if (this.#available >= bytes) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiter) return Promise.reject(new NexoraError('rfb-protocol', 'Internal error: two concurrent reads on one RFB connection.'));
    if (this.#paused) {
      this.#paused = false;
      this.#onPressure(false);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { bytes, resolve, reject };
    });
  }

  #consumed(bytes: number): void {
    this.#available -= bytes;
    if (this.#paused && this.#available <= this.#highWaterMark / 2) {
      this.#paused = false;
      this.#onPressure(false);
    }
  }

  u8(): number {
    const chunk = this.#chunks[0]!;
    const value = chunk[this.#offset]!;
    this.#offset++;
    if (this.#offset === chunk.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    this.#consumed(1);
    return value;
  }

  u16(): number {
    const chunk = this.#chunks[0]!;
    if (chunk.length - this.#offset >= 2) return this.take(2).readUInt16BE(0);
    return (this.u8() << 8) | this.u8();
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  s32(): number {
    return this.take(4).readInt32BE(0);
  }

  /** Takes `bytes` buffered bytes: a view when they lie in one chunk, else a copy. */
  take(bytes: number): Buffer {
    if (bytes > this.#available) throw new RangeError(`take(${bytes}) with ${this.#available} bytes buffered`);
    if (bytes === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    if (first.length - this.#offset >= bytes) {
      const view = first.subarray(this.#offset, this.#offset + bytes);
      this.#offset += bytes;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      this.#consumed(bytes);
      return view;
    }
    const output = Buffer.allocUnsafe(bytes);
    let written = 0;
    while (written < bytes) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(bytes - written, chunk.length - this.#offset);
      chunk.copy(output, written, this.#offset, this.#offset + count);
      written += count;
      this.#offset += count;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#consumed(bytes);
    return output;
  }

  /** Takes up to `maxBytes` from the first buffered chunk, without copying. */
  takeSome(maxBytes: number): Buffer {
    const first = this.#chunks[0];
    if (!first) return Buffer.alloc(0);
    return this.take(Math.min(maxBytes, first.length - this.#offset));
  }

  async read(bytes: number): Promise<Buffer> {
    if (this.#available < bytes) await this.need(bytes);
    return this.take(bytes);
  }

  async skip(bytes: number): Promise<void> {
    let remaining = bytes;
    while (remaining > 0) {
      if (this.#available === 0) await this.need(1);
      remaining -= this.takeSome(remaining).length;
    }
  }
}
