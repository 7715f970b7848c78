import { protocolError, type RectDecoder } from './decode-context.js';

/** CopyRect: the rectangle's content comes from elsewhere in the framebuffer. */
export const decodeCopyRect: RectDecoder = async ({ reader, mirror }, rect) => {
  if (reader.available < 4) await reader.need(4);
  const sourceX = reader.u16();
  const sourceY = reader.u16();
  if (sourceX + rect.width > mirror.width || sourceY + rect.height > mirror.height) {
    throw protocolError(`CopyRect source ${rect.width}x${rect.height}+${sourceX}+${sourceY} lies outside the ${mirror.width}x${mirror.height} framebuffer`);
  }
  return mirror.copy({ sourceX, sourceY, x: rect.x, y: rect.y, width: rect.width, height: rect.height });
};
