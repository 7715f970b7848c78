import { NexoraError } from '../errors.js';

/** Bytes arriving in chunks, read back in exact amounts (for the two handshakes of the proxy). */
export class ByteQueue {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.wake();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  /** Everything buffered and not yet read; the queue is empty afterwards. */
  drain(): Buffer {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  async read(length: number, options: { timeoutMs: number; what: string }): Promise<Buffer> {
    const deadline = Date.now() + options.timeoutMs;
    while (this.buffer.length < length) {
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new NexoraError('timeout', `Timed out after ${options.timeoutMs} ms waiting for ${options.what}.`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return Buffer.from(out);
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
