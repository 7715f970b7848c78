import { Deflate, Z_SYNC_FLUSH } from 'pako';
import { describe, expect, it } from 'vitest';
import { BoundedInflater } from './bounded-inflater.js';

/** One persistent deflate stream, as a VNC server keeps per connection. */
function deflater(): (data: Uint8Array) => Uint8Array[] {
  const deflate = new Deflate({ level: 6 });
  return (data) => {
    const chunks: Uint8Array[] = [];
    deflate.onData = (chunk) => chunks.push(chunk);
    deflate.push(data, Z_SYNC_FLUSH);
    return chunks;
  };
}

function frame(bytes: number, seed: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let index = 0; index < bytes; index++) data[index] = (index * seed + (index >> 9)) & 0xff;
  return data;
}

describe('BoundedInflater', () => {
  it("inflates every connection's rectangles into one shared buffer, each output exact", () => {
    const first = { deflate: deflater(), inflater: new BoundedInflater('ZRLE') };
    const second = { deflate: deflater(), inflater: new BoundedInflater('ZRLE') };
    const outputs: ArrayBufferLike[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [index, side] of [first, second].entries()) {
        const data = frame(3 * 1024 * 1024, 7 + round * 2 + index);
        const output = side.inflater.inflate(side.deflate(data), data.length);
        expect(Buffer.compare(output, Buffer.from(data))).toBe(0);
        outputs.push(output.buffer);
      }
    }
    // Six 3 MiB rectangles over two connections: one buffer held, not one per rectangle.
    expect(new Set(outputs.slice(1)).size).toBe(1);
  });

  it('refuses output past the rectangle bound, and the next rectangle still inflates', () => {
    const deflate = deflater();
    const inflater = new BoundedInflater('Zlib');
    expect(() => inflater.inflate(deflate(new Uint8Array(1024 * 1024)), 4096)).toThrow(/more than the 4096 bytes/);
    const other = new BoundedInflater('Zlib');
    const again = deflater();
    expect(other.inflate(again(Uint8Array.from([1, 2, 3])), 3)).toEqual(Buffer.from([1, 2, 3]));
  });
});
