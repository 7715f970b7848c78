import { describe, expect, it } from 'vitest';
import { makeTestImage, makeTwoColourImage, subImage, zrleTile, type TestImage } from './rect-encoders.js';

function subencodings(image: TestImage): Set<number> {
  const seen = new Set<number>();
  let index = 0;
  for (let y = 0; y < image.height; y += 64) {
    for (let x = 0; x < image.width; x += 64) {
      seen.add(zrleTile(subImage(image, x, y, Math.min(64, image.width - x), Math.min(64, image.height - y)), index++)[0]!);
    }
  }
  return seen;
}

// The client tests rely on these images covering every ZRLE subencoding kind.
describe('ZRLE test images', () => {
  it('cover raw, solid, packed palettes of 1, 2 and 4 bits, plain RLE and palette RLE', () => {
    const seen = new Set([...subencodings(makeTestImage(300, 200, 11, 64)), ...subencodings(makeTwoColourImage(256, 64))]);
    expect(seen).toContain(0);
    expect(seen).toContain(1);
    expect(seen).toContain(2);
    expect([...seen].some((kind) => kind >= 3 && kind <= 4)).toBe(true);
    expect([...seen].some((kind) => kind >= 5 && kind <= 16)).toBe(true);
    expect(seen).toContain(128);
    expect([...seen].some((kind) => kind >= 130)).toBe(true);
  });
});
