import { pixelFromBytes } from '../framebuffer-mirror.js';
import { protocolError, type RectDecoder } from './decode-context.js';

const rawFlag = 1;
const backgroundFlag = 2;
const foregroundFlag = 4;
const anySubrectsFlag = 8;
const subrectsColouredFlag = 16;

/** Hextile: 16×16 tiles, each raw or a background plus coloured sub-rectangles. */
export const decodeHextile: RectDecoder = async ({ reader, mirror }, rect) => {
  let background: number | undefined;
  let foreground: number | undefined;
  let changed = false;
  for (let tileY = rect.y; tileY < rect.y + rect.height; tileY += 16) {
    const tileHeight = Math.min(16, rect.y + rect.height - tileY);
    for (let tileX = rect.x; tileX < rect.x + rect.width; tileX += 16) {
      const tileWidth = Math.min(16, rect.x + rect.width - tileX);
      if (reader.available < 1) await reader.need(1);
      const flags = reader.u8();
      if (flags & rawFlag) {
        const bytes = tileWidth * tileHeight * 4;
        if (reader.available < bytes) await reader.need(bytes);
        const data = reader.take(bytes);
        for (let row = 0; row < tileHeight; row++) {
          if (mirror.writeRow(tileX, tileY + row, data, row * tileWidth * 4, tileWidth)) changed = true;
        }
        continue;
      }
      const headerBytes = (flags & backgroundFlag ? 4 : 0) + (flags & foregroundFlag ? 4 : 0) + (flags & anySubrectsFlag ? 1 : 0);
      if (reader.available < headerBytes) await reader.need(headerBytes);
      if (flags & backgroundFlag) background = pixelFromBytes(reader.take(4), 0);
      if (flags & foregroundFlag) foreground = pixelFromBytes(reader.take(4), 0);
      if (background === undefined) throw protocolError('a Hextile tile has no background colour');
      if (mirror.fill(tileX, tileY, tileWidth, tileHeight, background)) changed = true;
      if (!(flags & anySubrectsFlag)) continue;
      const count = reader.u8();
      const coloured = (flags & subrectsColouredFlag) !== 0;
      if (!coloured && foreground === undefined) throw protocolError('Hextile sub-rectangles have no foreground colour');
      const subrectBytes = coloured ? 6 : 2;
      if (reader.available < count * subrectBytes) await reader.need(count * subrectBytes);
      const data = reader.take(count * subrectBytes);
      for (let offset = 0; offset < data.length; offset += subrectBytes) {
        const colour = coloured ? pixelFromBytes(data, offset) : foreground!;
        const position = data[offset + subrectBytes - 2]!;
        const size = data[offset + subrectBytes - 1]!;
        const x = position >> 4;
        const y = position & 15;
        const width = (size >> 4) + 1;
        const height = (size & 15) + 1;
        if (x + width > tileWidth || y + height > tileHeight) throw protocolError('a Hextile sub-rectangle lies outside its tile');
        if (mirror.fill(tileX + x, tileY + y, width, height, colour)) changed = true;
      }
      // A tile with coloured sub-rectangles leaves the foreground undefined for the next one.
      if (coloured) foreground = undefined;
    }
  }
  return changed;
};
