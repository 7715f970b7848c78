import type { RectDecoder } from './decode-context.js';

/** Raw: width × height pixels, 4 bytes each, applied row by row as they arrive. */
export const decodeRaw: RectDecoder = async ({ reader, mirror }, rect) => {
  const rowBytes = rect.width * 4;
  let changed = false;
  let row = 0;
  while (row < rect.height) {
    if (reader.available < rowBytes) await reader.need(rowBytes);
    const rows = Math.min(rect.height - row, Math.floor(reader.available / rowBytes));
    const bytes = reader.take(rows * rowBytes);
    for (let index = 0; index < rows; index++) {
      if (mirror.writeRow(rect.x, rect.y + row + index, bytes, index * rowBytes, rect.width)) changed = true;
    }
    row += rows;
  }
  return changed;
};
