import { endianness } from 'node:os';
import { NexoraError } from '../errors.js';

if (endianness() !== 'LE') {
  throw new NexoraError('unsupported-platform', 'The RFB framebuffer mirror assumes a little-endian CPU (x86-64 or arm64).');
}

/** Opaque black as a little-endian RGBA word. */
const opaqueBlack = 0xff000000;

/**
 * The host-side copy of the remote screen: RGBA, 4 bytes a pixel, rows top to bottom.
 * `pixels` is a 32-bit view of the same memory, so one store writes one pixel
 * (R | G << 8 | B << 16 | A << 24 on little-endian machines).
 * Callers check rectangle bounds before calling; these methods trust them.
 */
export class FramebufferMirror {
  width = 0;
  height = 0;
  data: Buffer = Buffer.alloc(0);
  pixels: Uint32Array = new Uint32Array(0);

  constructor(width: number, height: number) {
    this.resize(width, height);
  }

  /** Replaces the mirror with an opaque black one of the new size. */
  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.data = Buffer.alloc(width * height * 4);
    this.pixels = new Uint32Array(this.data.buffer, this.data.byteOffset, width * height);
    this.pixels.fill(opaqueBlack);
  }

  /** Fills a rectangle with one pixel value; returns whether any pixel changed. */
  fill(x: number, y: number, width: number, height: number, pixel: number): boolean {
    const pixels = this.pixels;
    let changed = false;
    for (let row = y; row < y + height; row++) {
      const start = row * this.width + x;
      const end = start + width;
      if (!changed) {
        for (let index = start; index < end; index++) {
          if (pixels[index] !== pixel) {
            changed = true;
            break;
          }
        }
      }
      pixels.fill(pixel, start, end);
    }
    return changed;
  }

  /** Copies a rectangle within the mirror (CopyRect); overlapping areas copy correctly. */
  copy(options: { sourceX: number; sourceY: number; x: number; y: number; width: number; height: number }): boolean {
    const { sourceX, sourceY, x, y, width, height } = options;
    if (sourceX === x && sourceY === y) return false;
    const pixels = this.pixels;
    const stride = this.width;
    // Walk rows away from the overlap so a row is read before it is overwritten.
    const downward = y <= sourceY;
    for (let step = 0; step < height; step++) {
      const row = downward ? step : height - 1 - step;
      const from = (sourceY + row) * stride + sourceX;
      pixels.copyWithin((y + row) * stride + x, from, from + width);
    }
    return true;
  }

  /**
   * Writes `count` pixels starting at (x, y) along a row from wire bytes in our pixel format
   * (R, G, B, X). Returns whether any pixel changed.
   */
  writeRow(x: number, y: number, source: Uint8Array, sourceOffset: number, count: number): boolean {
    const pixels = this.pixels;
    let index = y * this.width + x;
    let offset = sourceOffset;
    let changed = false;
    for (let column = 0; column < count; column++) {
      const pixel = (source[offset]! | (source[offset + 1]! << 8) | (source[offset + 2]! << 16) | opaqueBlack) >>> 0;
      if (pixels[index] !== pixel) {
        pixels[index] = pixel;
        changed = true;
      }
      index++;
      offset += 4;
    }
    return changed;
  }
}

/** A wire pixel (R, G, B in its low 3 bytes, as both 4-byte pixels and ZRLE's 3-byte CPIXELs are) as the mirror's opaque RGBA word. */
export function pixelFromBytes(source: Uint8Array, offset: number): number {
  return (source[offset]! | (source[offset + 1]! << 8) | (source[offset + 2]! << 16) | opaqueBlack) >>> 0;
}
