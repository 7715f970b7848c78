/**
 * Server-side encoders for tests: they build the bytes a VNC server would send, from a test
 * image, so decoded mirrors can be compared pixel by pixel.
 */

/** An image as RGBA words (R | G << 8 | B << 16 | 0xff << 24), like the client's mirror. */
export interface TestImage {
  width: number;
  height: number;
  pixels: Uint32Array;
}

export function rectHeader(x: number, y: number, width: number, height: number, encoding: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(x, 0);
  header.writeUInt16BE(y, 2);
  header.writeUInt16BE(width, 4);
  header.writeUInt16BE(height, 6);
  header.writeInt32BE(encoding, 8);
  return header;
}

/** A deterministic image with areas of few colours (for palettes and runs) and noisy ones. */
export function makeTestImage(width: number, height: number, seed = 1, regionSize = 20): TestImage {
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const colour = (): number => (0xff000000 | Math.floor(random() * 0x1000000)) >>> 0;
  const palettes = Array.from({ length: 8 }, (_, index) => Array.from({ length: [1, 2, 3, 5, 16, 40, 1, 2][index]! }, colour));
  const pixels = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const region = (Math.floor(x / regionSize) + 3 * Math.floor(y / regionSize) + seed) % 9;
      const palette = palettes[region];
      pixels[y * width + x] = palette ? palette[Math.floor(random() * (random() < 0.8 ? 1 : palette.length))]! : colour();
    }
  }
  return { width, height, pixels };
}

/** Two colours in a random pattern: ZRLE tiles of it go raw, 1-bit packed, palette RLE and plain RLE in turn. */
export function makeTwoColourImage(width: number, height: number): TestImage {
  const pixels = new Uint32Array(width * height);
  for (let index = 0; index < pixels.length; index++) pixels[index] = (index * 2654435761) % 7 < 3 ? 0xff2040e0 : 0xff10f010;
  return { width, height, pixels };
}

export function subImage(image: TestImage, x: number, y: number, width: number, height: number): TestImage {
  const pixels = new Uint32Array(width * height);
  for (let row = 0; row < height; row++) pixels.set(image.pixels.subarray((y + row) * image.width + x, (y + row) * image.width + x + width), row * width);
  return { width, height, pixels };
}

function pixelBytes(pixel: number, bytes: 3 | 4): number[] {
  const rgb = [pixel & 0xff, (pixel >>> 8) & 0xff, (pixel >>> 16) & 0xff];
  // The fourth (padding) byte is junk on purpose: the client must force alpha.
  return bytes === 4 ? [...rgb, 0x5a] : rgb;
}

export function rawPixels(image: TestImage): Buffer {
  return Buffer.from([...image.pixels].flatMap((pixel) => pixelBytes(pixel, 4)));
}

export function encodeRaw(x: number, y: number, image: TestImage): Buffer {
  return Buffer.concat([rectHeader(x, y, image.width, image.height, 0), rawPixels(image)]);
}

export function encodeCopyRect(options: { x: number; y: number; width: number; height: number; sourceX: number; sourceY: number }): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(options.sourceX, 0);
  body.writeUInt16BE(options.sourceY, 2);
  return Buffer.concat([rectHeader(options.x, options.y, options.width, options.height, 1), body]);
}

/** Hextile, cycling through raw, solid, monochrome and coloured sub-rectangle tiles. */
export function encodeHextile(x: number, y: number, image: TestImage): Buffer {
  const parts: number[] = [];
  let background: number | undefined;
  let tileIndex = 0;
  for (let tileY = 0; tileY < image.height; tileY += 16) {
    for (let tileX = 0; tileX < image.width; tileX += 16) {
      const tile = subImage(image, tileX, tileY, Math.min(16, image.width - tileX), Math.min(16, image.height - tileY));
      const counts = new Map<number, number>();
      for (const pixel of tile.pixels) counts.set(pixel, (counts.get(pixel) ?? 0) + 1);
      const mode = tileIndex++ % 4;
      if (mode === 0) {
        parts.push(1, ...rawPixels(tile));
        background = undefined;
        continue;
      }
      const tileBackground = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      const others: Array<[number, number, number]> = [];
      tile.pixels.forEach((pixel, index) => {
        if (pixel !== tileBackground) others.push([pixel, index % tile.width, Math.floor(index / tile.width)]);
      });
      const colours = new Set(others.map(([pixel]) => pixel));
      let flags = background === tileBackground ? 0 : 2;
      const body: number[] = flags ? pixelBytes(tileBackground, 4) : [];
      background = tileBackground;
      if (others.length > 0) {
        flags |= 8;
        const monochrome = colours.size === 1 && mode !== 3;
        if (monochrome) {
          flags |= 4;
          body.push(...pixelBytes(others[0]![0], 4));
        } else flags |= 16;
        body.push(others.length);
        for (const [pixel, px, py] of others) {
          if (!monochrome) body.push(...pixelBytes(pixel, 4));
          body.push((px << 4) | py, 0);
        }
      }
      parts.push(flags, ...body);
    }
  }
  return Buffer.concat([rectHeader(x, y, image.width, image.height, 5), Buffer.from(parts)]);
}

function withLength(compressed: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(compressed.length);
  return Buffer.concat([length, compressed]);
}

export function encodeZlib(x: number, y: number, image: TestImage, deflate: (data: Uint8Array) => Buffer): Buffer {
  return Buffer.concat([rectHeader(x, y, image.width, image.height, 6), withLength(deflate(rawPixels(image)))]);
}

function runLength(length: number): number[] {
  const bytes: number[] = [];
  let remaining = length - 1;
  while (remaining >= 255) {
    bytes.push(255);
    remaining -= 255;
  }
  bytes.push(remaining);
  return bytes;
}

/** ZRLE tile data, using every subencoding that fits the tile's colours, in turn. */
export function zrleTile(tile: TestImage, tileIndex: number): number[] {
  const colours = [...new Set(tile.pixels)];
  const runs: Array<[number, number]> = [];
  for (const pixel of tile.pixels) {
    const last = runs[runs.length - 1];
    if (last && last[0] === pixel) last[1]++;
    else runs.push([pixel, 1]);
  }
  const choice = tileIndex % 4;
  if (colours.length === 1) return [1, ...pixelBytes(colours[0]!, 3)];
  if (choice === 0) return [0, ...[...tile.pixels].flatMap((pixel) => pixelBytes(pixel, 3))];
  if (choice === 1 && colours.length <= 16) {
    const bits = colours.length === 2 ? 1 : colours.length <= 4 ? 2 : 4;
    const bytes = [colours.length, ...colours.flatMap((pixel) => pixelBytes(pixel, 3))];
    for (let row = 0; row < tile.height; row++) {
      const packed = new Array<number>(Math.ceil((tile.width * bits) / 8)).fill(0);
      for (let column = 0; column < tile.width; column++) {
        const index = colours.indexOf(tile.pixels[row * tile.width + column]!);
        const bitOffset = column * bits;
        packed[bitOffset >> 3]! |= index << (8 - bits - (bitOffset & 7));
      }
      bytes.push(...packed);
    }
    return bytes;
  }
  if (choice === 2 && colours.length <= 127) {
    const bytes = [128 + colours.length, ...colours.flatMap((pixel) => pixelBytes(pixel, 3))];
    for (const [pixel, length] of runs) {
      const index = colours.indexOf(pixel);
      if (length === 1) bytes.push(index);
      else bytes.push(index | 0x80, ...runLength(length));
    }
    return bytes;
  }
  return [128, ...runs.flatMap(([pixel, length]) => [...pixelBytes(pixel, 3), ...runLength(length)])];
}

export function encodeZrle(x: number, y: number, image: TestImage, deflate: (data: Uint8Array) => Buffer): Buffer {
  const data: number[] = [];
  let tileIndex = 0;
  for (let tileY = 0; tileY < image.height; tileY += 64) {
    for (let tileX = 0; tileX < image.width; tileX += 64) {
      const tile = subImage(image, tileX, tileY, Math.min(64, image.width - tileX), Math.min(64, image.height - tileY));
      for (const byte of zrleTile(tile, tileIndex++)) data.push(byte);
    }
  }
  return Buffer.concat([rectHeader(x, y, image.width, image.height, 16), withLength(deflate(Uint8Array.from(data)))]);
}

/** An RGBA buffer (as the client's framebuffer) of a test image placed over a background. */
export function expectedFramebuffer(width: number, height: number, placements: Array<{ x: number; y: number; image: TestImage }>, background = 0xff000000): Buffer {
  const pixels = new Uint32Array(width * height).fill(background);
  for (const { x, y, image } of placements) {
    for (let row = 0; row < image.height; row++) pixels.set(image.pixels.subarray(row * image.width, (row + 1) * image.width), (y + row) * width + x);
  }
  return Buffer.from(pixels.buffer);
}
