import type { RfbRect } from '../rfb/index.js';

/** Pixels are compared in tiles this many pixels a side; changed tiles that touch form one region. */
const tileSize = 8;
/** More regions than this are merged into their bounding box: a model needs a summary, not a mosaic. */
const maxRegions = 8;

/**
 * The regions of the display whose pixels differ between two frames (RGBA, same size), looked
 * for only inside `candidates` (the rectangles the VNC server reported as updated: servers
 * resend unchanged pixels, so the rectangles alone overstate the change). Each region is the
 * exact pixel bounding box of one cluster of changed tiles.
 */
export function changedRegions(options: {
  previous: Uint8Array;
  current: Uint8Array;
  width: number;
  height: number;
  candidates: readonly RfbRect[];
}): RfbRect[] {
  const { previous, current, width, height } = options;
  const columns = Math.ceil(width / tileSize);
  const rows = Math.ceil(height / tileSize);
  // Per changed tile: its exact changed-pixel bounds [left, top, right, bottom] (exclusive right/bottom).
  const tiles = new Map<number, [number, number, number, number]>();
  for (const rect of options.candidates) {
    const right = Math.min(rect.x + rect.width, width);
    const bottom = Math.min(rect.y + rect.height, height);
    for (let y = Math.max(rect.y, 0); y < bottom; y++) {
      let offset = (y * width + Math.max(rect.x, 0)) * 4;
      for (let x = Math.max(rect.x, 0); x < right; x++, offset += 4) {
        // Alpha is constant; compare the colour bytes.
        if (previous[offset] === current[offset] && previous[offset + 1] === current[offset + 1] && previous[offset + 2] === current[offset + 2]) continue;
        const key = Math.floor(y / tileSize) * columns + Math.floor(x / tileSize);
        const bounds = tiles.get(key);
        if (!bounds) tiles.set(key, [x, y, x + 1, y + 1]);
        else {
          if (x < bounds[0]) bounds[0] = x;
          if (y < bounds[1]) bounds[1] = y;
          if (x + 1 > bounds[2]) bounds[2] = x + 1;
          if (y + 1 > bounds[3]) bounds[3] = y + 1;
        }
      }
    }
  }
  // Clusters of touching tiles (8-neighbourhood), by flood fill.
  const regions: RfbRect[] = [];
  const seen = new Set<number>();
  for (const start of tiles.keys()) {
    if (seen.has(start)) continue;
    seen.add(start);
    const stack = [start];
    let [left, top, right, bottom] = tiles.get(start)!;
    while (stack.length > 0) {
      const key = stack.pop()!;
      const bounds = tiles.get(key)!;
      left = Math.min(left, bounds[0]);
      top = Math.min(top, bounds[1]);
      right = Math.max(right, bounds[2]);
      bottom = Math.max(bottom, bounds[3]);
      const column = key % columns;
      const row = Math.floor(key / columns);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const neighbourColumn = column + dx;
          const neighbourRow = row + dy;
          if (neighbourColumn < 0 || neighbourRow < 0 || neighbourColumn >= columns || neighbourRow >= rows) continue;
          const neighbour = neighbourRow * columns + neighbourColumn;
          if (tiles.has(neighbour) && !seen.has(neighbour)) {
            seen.add(neighbour);
            stack.push(neighbour);
          }
        }
      }
    }
    regions.push({ x: left, y: top, width: right - left, height: bottom - top });
  }
  regions.sort((a, b) => a.y - b.y || a.x - b.x);
  return regions.length > maxRegions ? [unionOf(regions)] : regions;
}

/** The smallest rectangle covering all of `rects` (not empty). */
export function unionOf(rects: readonly RfbRect[]): RfbRect {
  const left = Math.min(...rects.map((rect) => rect.x));
  const top = Math.min(...rects.map((rect) => rect.y));
  const right = Math.max(...rects.map((rect) => rect.x + rect.width));
  const bottom = Math.max(...rects.map((rect) => rect.y + rect.height));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** A copy of one rectangle of an RGBA frame. */
export function cropFrame(frame: Uint8Array, frameWidth: number, rect: RfbRect): Buffer {
  const out = Buffer.alloc(rect.width * rect.height * 4);
  for (let row = 0; row < rect.height; row++) {
    const start = ((rect.y + row) * frameWidth + rect.x) * 4;
    out.set(frame.subarray(start, start + rect.width * 4), row * rect.width * 4);
  }
  return out;
}

/**
 * An RGBA frame scaled down by area averaging (each output pixel the mean of the source pixels
 * it covers): text stays legible at the sizes models are given, unlike nearest-neighbour.
 */
export function scaleFrame(frame: Uint8Array, width: number, height: number, targetWidth: number, targetHeight: number): Buffer {
  const out = Buffer.alloc(targetWidth * targetHeight * 4);
  const xRatio = width / targetWidth;
  const yRatio = height / targetHeight;
  for (let ty = 0; ty < targetHeight; ty++) {
    const y0 = Math.floor(ty * yRatio);
    const y1 = Math.max(Math.min(Math.floor((ty + 1) * yRatio), height), y0 + 1);
    for (let tx = 0; tx < targetWidth; tx++) {
      const x0 = Math.floor(tx * xRatio);
      const x1 = Math.max(Math.min(Math.floor((tx + 1) * xRatio), width), x0 + 1);
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let y = y0; y < y1; y++) {
        let offset = (y * width + x0) * 4;
        for (let x = x0; x < x1; x++, offset += 4) {
          red += frame[offset]!;
          green += frame[offset + 1]!;
          blue += frame[offset + 2]!;
        }
      }
      const count = (y1 - y0) * (x1 - x0);
      const target = (ty * targetWidth + tx) * 4;
      out[target] = Math.round(red / count);
      out[target + 1] = Math.round(green / count);
      out[target + 2] = Math.round(blue / count);
      out[target + 3] = 255;
    }
  }
  return out;
}

/**
 * The largest size of the same aspect ratio that fits in `limit` (never larger than the
 * original), and with `limit.maxPixels` in at most that many pixels.
 */
export function fitWithin(width: number, height: number, limit: { width: number; height: number; maxPixels?: number | undefined }): { width: number; height: number } {
  const byPixels = limit.maxPixels !== undefined ? Math.sqrt(limit.maxPixels / (width * height)) : 1;
  const factor = Math.min(limit.width / width, limit.height / height, byPixels, 1);
  // Rounded to the nearest pixel, except under a pixel budget, which rounding up could overshoot.
  const round = limit.maxPixels !== undefined ? Math.floor : Math.round;
  return { width: Math.max(round(width * factor), 1), height: Math.max(round(height * factor), 1) };
}
