import { describe, expect, it } from 'vitest';
import { changedRegions, cropFrame, fitWithin, scaleFrame } from './visual-diff.js';

function frame(width: number, height: number, value = 0): Buffer {
  return Buffer.alloc(width * height * 4, value);
}

function paint(data: Buffer, width: number, rect: { x: number; y: number; width: number; height: number }, value: number): void {
  for (let y = rect.y; y < rect.y + rect.height; y++) data.fill(value, (y * width + rect.x) * 4, (y * width + rect.x + rect.width) * 4);
}

describe('changedRegions', () => {
  it('finds the exact box of a change in one corner, ignoring resent unchanged pixels', () => {
    const previous = frame(200, 100);
    const current = Buffer.from(previous);
    paint(current, 200, { x: 180, y: 3, width: 12, height: 7 }, 255);
    // The server reported the whole top strip as updated.
    const regions = changedRegions({ previous, current, width: 200, height: 100, candidates: [{ x: 0, y: 0, width: 200, height: 20 }] });
    expect(regions).toEqual([{ x: 180, y: 3, width: 12, height: 7 }]);
  });

  it('keeps separate changes apart and sees nothing outside the candidates', () => {
    const previous = frame(200, 100);
    const current = Buffer.from(previous);
    paint(current, 200, { x: 0, y: 0, width: 4, height: 4 }, 9);
    paint(current, 200, { x: 150, y: 80, width: 10, height: 10 }, 9);
    paint(current, 200, { x: 100, y: 40, width: 2, height: 2 }, 9);
    const regions = changedRegions({ previous, current, width: 200, height: 100, candidates: [{ x: 0, y: 0, width: 10, height: 10 }, { x: 140, y: 70, width: 60, height: 30 }] });
    expect(regions).toEqual([
      { x: 0, y: 0, width: 4, height: 4 },
      { x: 150, y: 80, width: 10, height: 10 },
    ]);
  });
});

describe('scaling and cropping', () => {
  it('fits a size inside a limit, keeping the aspect ratio and never enlarging', () => {
    expect(fitWithin(1280, 800, { width: 1024, height: 768 })).toEqual({ width: 1024, height: 640 });
    expect(fitWithin(1280, 800, { width: 4000, height: 4000 })).toEqual({ width: 1280, height: 800 });
    // OpenAI's high detail (short side 768) and a pixel budget that binds before the box does.
    expect(fitWithin(1280, 800, { width: 2048, height: 768 })).toEqual({ width: 1229, height: 768 });
    expect(fitWithin(1920, 1200, { width: 1568, height: 1568, maxPixels: 1_150_000 })).toEqual({ width: 1356, height: 847 });
    expect(1356 * 847).toBeLessThanOrEqual(1_150_000);
    expect(fitWithin(1280, 800, { width: 1568, height: 1568, maxPixels: 1_150_000 })).toEqual({ width: 1280, height: 800 });
  });

  it('averages the pixels each scaled pixel covers, and crops exactly', () => {
    const source = frame(4, 2);
    paint(source, 4, { x: 0, y: 0, width: 1, height: 2 }, 200);
    const scaled = scaleFrame(source, 4, 2, 2, 1);
    expect([...scaled.subarray(0, 4)]).toEqual([100, 100, 100, 255]);
    expect([...scaled.subarray(4, 8)]).toEqual([0, 0, 0, 255]);
    const crop = cropFrame(source, 4, { x: 0, y: 1, width: 2, height: 1 });
    expect([...crop]).toEqual([200, 200, 200, 200, 0, 0, 0, 0]);
  });
});
