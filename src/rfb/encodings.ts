/** RFB encoding numbers this client understands. */
export const rfbEncodings = {
  raw: 0,
  copyRect: 1,
  hextile: 5,
  zlib: 6,
  zrle: 16,
  desktopSize: -223,
  lastRect: -224,
} as const;

/** Pixel encodings a caller may ask for, best first. */
export type RfbPixelEncoding = 'zrle' | 'zlib' | 'hextile' | 'copyRect' | 'raw';

export const defaultPixelEncodings: readonly RfbPixelEncoding[] = ['zrle', 'zlib', 'hextile', 'copyRect', 'raw'];

/**
 * The SetEncodings list: preferred encodings first (servers use the first one they support),
 * Raw always last as the fallback, then the pseudo-encodings. Cursor is not requested, so the
 * server draws the pointer into the framebuffer.
 */
export function encodingList(preferred: readonly RfbPixelEncoding[]): number[] {
  const numbers: number[] = preferred.filter((name) => name !== 'raw').map((name) => rfbEncodings[name]);
  return [...new Set([...numbers, rfbEncodings.raw])].concat([rfbEncodings.desktopSize, rfbEncodings.lastRect]);
}
