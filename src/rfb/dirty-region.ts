/** A rectangle of the framebuffer, in pixels. */
export interface RfbRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Accumulates the rectangles that changed since it was last taken. Beyond `maxRects` it
 * degrades to one bounding box: "what changed" must stay cheap to compute and to report.
 */
export class DirtyRegion {
  #rects: RfbRect[] = [];
  readonly #maxRects: number;

  constructor(options: { maxRects?: number } = {}) {
    this.#maxRects = options.maxRects ?? 64;
  }

  get isEmpty(): boolean {
    return this.#rects.length === 0;
  }

  add(rect: RfbRect): void {
    if (rect.width <= 0 || rect.height <= 0) return;
    if (this.#rects.some((existing) => contains(existing, rect))) return;
    this.#rects = this.#rects.filter((existing) => !contains(rect, existing));
    this.#rects.push({ ...rect });
    if (this.#rects.length > this.#maxRects) this.#rects = [boundingBox(this.#rects)];
  }

  /** The changed rectangles so far, and resets. */
  take(): RfbRect[] {
    const rects = this.#rects;
    this.#rects = [];
    return rects;
  }

  /** The smallest rectangle covering every change so far, or undefined when nothing changed. */
  bounds(): RfbRect | undefined {
    return this.#rects.length === 0 ? undefined : boundingBox(this.#rects);
  }
}

function contains(outer: RfbRect, inner: RfbRect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** The smallest rectangle covering all of `rects` (which must not be empty). */
export function boundingBox(rects: readonly RfbRect[]): RfbRect {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const rect of rects) {
    left = Math.min(left, rect.x);
    top = Math.min(top, rect.y);
    right = Math.max(right, rect.x + rect.width);
    bottom = Math.max(bottom, rect.y + rect.height);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}
