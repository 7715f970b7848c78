import { pixelFromBytes } from '../framebuffer-mirror.js';
import { protocolError, readCompressed, type RectDecoder } from './decode-context.js';

const tileSide = 64;
/** A tile's worst case: subencoding byte, a 127-colour palette, then 4 bytes a pixel (plain RLE of single pixels). */
const tileOverhead = 1 + 127 * 3;

/**
 * ZRLE: 64×64 tiles, inflated from the connection's ZRLE zlib stream, each raw, solid,
 * packed-palette, plain RLE or palette RLE. Pixels are 3-byte CPIXELs (R, G, B).
 */
export const decodeZrle: RectDecoder = async (context, rect) => {
  const tiles = Math.ceil(rect.width / tileSide) * Math.ceil(rect.height / tileSide);
  const maxBytes = tiles * tileOverhead + rect.width * rect.height * 4;
  const data = await readCompressed(context, context.zrleStream, maxBytes, 'ZRLE');
  const { mirror } = context;
  const pixels = mirror.pixels;
  const stride = mirror.width;
  const palette = new Uint32Array(128);
  let offset = 0;
  let changed = false;

  const need = (bytes: number): void => {
    if (offset + bytes > data.length) throw protocolError('a ZRLE tile ends early');
  };
  const put = (index: number, pixel: number): void => {
    if (pixels[index] !== pixel) {
      pixels[index] = pixel;
      changed = true;
    }
  };

  for (let tileY = rect.y; tileY < rect.y + rect.height; tileY += tileSide) {
    const tileHeight = Math.min(tileSide, rect.y + rect.height - tileY);
    for (let tileX = rect.x; tileX < rect.x + rect.width; tileX += tileSide) {
      const tileWidth = Math.min(tileSide, rect.x + rect.width - tileX);
      const tilePixels = tileWidth * tileHeight;
      need(1);
      const subencoding = data[offset++]!;

      if (subencoding === 0) {
        need(tilePixels * 3);
        for (let row = 0; row < tileHeight; row++) {
          let index = (tileY + row) * stride + tileX;
          for (let column = 0; column < tileWidth; column++, index++, offset += 3) put(index, pixelFromBytes(data, offset));
        }
        continue;
      }
      if (subencoding === 1) {
        need(3);
        if (mirror.fill(tileX, tileY, tileWidth, tileHeight, pixelFromBytes(data, offset))) changed = true;
        offset += 3;
        continue;
      }
      if (subencoding <= 16) {
        const paletteSize = subencoding;
        need(paletteSize * 3);
        for (let entry = 0; entry < paletteSize; entry++, offset += 3) palette[entry] = pixelFromBytes(data, offset);
        const bits = paletteSize === 2 ? 1 : paletteSize <= 4 ? 2 : 4;
        const rowBytes = Math.ceil((tileWidth * bits) / 8);
        need(rowBytes * tileHeight);
        const mask = (1 << bits) - 1;
        for (let row = 0; row < tileHeight; row++) {
          let index = (tileY + row) * stride + tileX;
          for (let column = 0; column < tileWidth; column++, index++) {
            const bitOffset = column * bits;
            const byte = data[offset + (bitOffset >> 3)]!;
            const entry = (byte >> (8 - bits - (bitOffset & 7))) & mask;
            if (entry >= paletteSize) throw protocolError('a ZRLE packed-palette index is past its palette');
            put(index, palette[entry]!);
          }
          offset += rowBytes;
        }
        continue;
      }
      if (subencoding < 128 || subencoding === 129) throw protocolError(`ZRLE subencoding ${subencoding} does not exist`);

      const paletteSize = subencoding === 128 ? 0 : subencoding - 128;
      need(paletteSize * 3);
      for (let entry = 0; entry < paletteSize; entry++, offset += 3) palette[entry] = pixelFromBytes(data, offset);
      let painted = 0;
      while (painted < tilePixels) {
        let pixel: number;
        let runLength = 1;
        if (paletteSize === 0) {
          need(3);
          pixel = pixelFromBytes(data, offset);
          offset += 3;
          runLength = readRunLength();
        } else {
          need(1);
          const entry = data[offset++]!;
          if ((entry & 0x7f) >= paletteSize) throw protocolError('a ZRLE palette-RLE index is past its palette');
          pixel = palette[entry & 0x7f]!;
          if (entry & 0x80) runLength = readRunLength();
        }
        if (painted + runLength > tilePixels) throw protocolError('a ZRLE run overflows its tile');
        for (let step = 0; step < runLength; step++, painted++) {
          const row = Math.floor(painted / tileWidth);
          put((tileY + row) * stride + tileX + (painted - row * tileWidth), pixel);
        }
      }
    }
  }
  if (offset !== data.length) throw protocolError(`a ZRLE rectangle has ${data.length - offset} bytes left over after its tiles`);
  return changed;

  function readRunLength(): number {
    let length = 1;
    for (;;) {
      need(1);
      const byte = data[offset++]!;
      length += byte;
      if (byte !== 255) return length;
      // Each 255 adds 255 pixels; a run can never exceed a tile, so stop runaway lengths early.
      if (length > tileSide * tileSide) throw protocolError('a ZRLE run overflows its tile');
    }
  }
};
