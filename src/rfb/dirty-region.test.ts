import { describe, expect, it } from 'vitest';
import { DirtyRegion } from './dirty-region.js';

describe('DirtyRegion', () => {
  it('keeps distinct rectangles, drops contained ones and resets on take', () => {
    const region = new DirtyRegion();
    region.add({ x: 0, y: 0, width: 10, height: 10 });
    region.add({ x: 2, y: 2, width: 3, height: 3 });
    region.add({ x: 50, y: 50, width: 5, height: 5 });
    region.add({ x: 0, y: 0, width: 0, height: 7 });
    expect(region.bounds()).toEqual({ x: 0, y: 0, width: 55, height: 55 });
    expect(region.take()).toEqual([
      { x: 0, y: 0, width: 10, height: 10 },
      { x: 50, y: 50, width: 5, height: 5 },
    ]);
    expect(region.isEmpty).toBe(true);
    region.add({ x: 1, y: 1, width: 1, height: 1 });
    region.add({ x: 0, y: 0, width: 4, height: 4 });
    expect(region.take()).toEqual([{ x: 0, y: 0, width: 4, height: 4 }]);
  });

  it('degrades to one bounding box past maxRects', () => {
    const region = new DirtyRegion({ maxRects: 3 });
    for (let index = 0; index < 4; index++) region.add({ x: index * 10, y: 0, width: 2, height: 2 });
    expect(region.take()).toEqual([{ x: 0, y: 0, width: 32, height: 2 }]);
  });
});
