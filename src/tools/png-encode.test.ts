import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng } from './png-encode.js';

function frame(width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let index = 0; index < width * height; index++) {
    rgba[index * 4] = index % 251;
    rgba[index * 4 + 1] = (index * 7) % 253;
    rgba[index * 4 + 2] = (index * 13) % 255;
    rgba[index * 4 + 3] = 255;
  }
  return rgba;
}

describe('encodePng', () => {
  it('round-trips every pixel through a standard decoder', () => {
    const rgba = frame(37, 23);
    const decoded = PNG.sync.read(encodePng(rgba, 37, 23));
    expect(decoded.width).toBe(37);
    expect(decoded.height).toBe(23);
    expect(Buffer.compare(decoded.data, Buffer.from(rgba))).toBe(0);
  });

  it('rejects a buffer that is too small for the size', () => {
    expect(() => encodePng(new Uint8Array(10), 4, 4)).toThrow(/needs 64/);
    expect(() => encodePng(new Uint8Array(0), 0, 4)).toThrow(/invalid image size/);
  });
});
