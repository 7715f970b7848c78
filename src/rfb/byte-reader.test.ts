import { describe, expect, it } from 'vitest';
import { ByteReader } from './byte-reader.js';

function reader(highWaterMark = 1024): { reader: ByteReader; pressure: boolean[] } {
  const pressure: boolean[] = [];
  return { reader: new ByteReader({ highWaterMark, onPressure: (paused) => pressure.push(paused) }), pressure };
}

describe('ByteReader', () => {
  it('reads numbers and blocks that straddle chunk boundaries', async () => {
    const { reader: bytes } = reader();
    const pending = bytes.read(7);
    for (const byte of [0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01]) bytes.push(Buffer.from([byte]));
    expect([...(await pending)]).toEqual([0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01]);
    bytes.push(Buffer.from([0xab]));
    bytes.push(Buffer.from([0xcd, 0xff, 0xff]));
    bytes.push(Buffer.from([0xff, 0xfe]));
    await bytes.need(6);
    expect(bytes.u16()).toBe(0xabcd);
    expect(bytes.s32()).toBe(-2);
    expect(bytes.available).toBe(0);
  });

  it('rejects waiting reads when the stream fails, and later ones too', async () => {
    const { reader: bytes } = reader();
    const pending = bytes.read(4);
    bytes.push(Buffer.from([1, 2]));
    bytes.fail(new Error('gone'));
    await expect(pending).rejects.toThrow('gone');
    await expect(bytes.read(4)).rejects.toThrow('gone');
  });

  it('pauses the source above the high-water mark, and never while a read waits for more', async () => {
    const { reader: bytes, pressure } = reader(8);
    bytes.push(Buffer.alloc(10));
    expect(pressure).toEqual([true]);
    bytes.take(6);
    expect(pressure).toEqual([true, false]);
    const pending = bytes.read(30);
    bytes.push(Buffer.alloc(12));
    expect(pressure).toEqual([true, false]);
    bytes.push(Buffer.alloc(14));
    expect((await pending).length).toBe(30);
  });

  it('skips across chunks', async () => {
    const { reader: bytes } = reader();
    const skipping = bytes.skip(5);
    bytes.push(Buffer.from([1, 2, 3]));
    bytes.push(Buffer.from([4, 5, 6]));
    await skipping;
    expect(bytes.u8()).toBe(6);
  });
});

describe('ByteReader over a real socket', () => {
  it('never holds more than its high-water mark and one socket chunk across an 8 MiB update read slowly', async () => {
    const { createServer, connect } = await import('node:net');
    const highWaterMark = 256 * 1024;
    const total = 8 * 1024 * 1024;
    const server = createServer((peer) => peer.end(Buffer.alloc(total, 7)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const socket = connect({ host: '127.0.0.1', port });
    const bytes = new ByteReader({ highWaterMark, onPressure: (paused) => (paused ? socket.pause() : socket.resume()) });
    let largestChunk = 0;
    let mostHeld = 0;
    socket.on('data', (chunk: Buffer) => {
      largestChunk = Math.max(largestChunk, chunk.length);
      bytes.push(chunk);
      mostHeld = Math.max(mostHeld, bytes.available);
    });
    try {
      let read = 0;
      while (read < total) {
        // A consumer slower than loopback, as a busy server decoding 50 sessions' updates.
        await new Promise((resolve) => setImmediate(resolve));
        const want = Math.min(4096, total - read);
        if (bytes.available < want) await bytes.need(want);
        read += bytes.take(want).length;
      }
      expect(read).toBe(total);
      expect(mostHeld).toBeLessThanOrEqual(highWaterMark + largestChunk);
    } finally {
      socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
