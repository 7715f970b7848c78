import { readCompressed, protocolError, type RectDecoder } from './decode-context.js';

/** Zlib: raw pixels through the connection's zlib stream. */
export const decodeZlib: RectDecoder = async (context, rect) => {
  const expected = rect.width * rect.height * 4;
  const pixels = await readCompressed(context, context.zlibStream, expected, 'Zlib');
  if (pixels.length !== expected) throw protocolError(`a Zlib rectangle inflated to ${pixels.length} bytes instead of ${expected}`);
  let changed = false;
  const rowBytes = rect.width * 4;
  for (let row = 0; row < rect.height; row++) {
    if (context.mirror.writeRow(rect.x, rect.y + row, pixels, row * rowBytes, rect.width)) changed = true;
  }
  return changed;
};
