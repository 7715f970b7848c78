import { describe, expect, it } from 'vitest';
import { diffScreens } from '../tools/screen-diff.js';
import type { ScreenResult } from '../tools/types.js';
import { ScreenContext } from './screen-text.js';

function screen(lines: string[], previous: string[] | undefined, png?: Buffer): ScreenResult {
  return {
    ...(png ? { png } : {}),
    text: lines.join('\n'),
    width: 1280,
    height: 800,
    cursor: { row: 1, column: 4 },
    timestamp: '2026-11-24T00:00:00.000Z',
    changes: diffScreens(previous, lines),
  };
}

const rows = (count: number, label = 'row'): string[] => Array.from({ length: count }, (_, index) => `${label} ${index}`);

describe('ScreenContext', () => {
  it('sends the whole text on the first look, then only what changed, and says when nothing did', () => {
    const context = new ScreenContext();
    const first = rows(10);
    expect(context.describeScreen(screen(first, undefined), false)).toContain('Terminal text:\n```\nrow 0\nrow 1');
    const second = [...first];
    second[3] = 'edited';
    const diff = context.describeScreen(screen(second, first), false);
    expect(diff).toContain('row 3: edited');
    expect(diff).not.toContain('row 0');
    expect(context.describeScreen(screen(second, second), false)).toContain('unchanged since your last look');
    // Asked for, or when most rows changed: everything again.
    expect(context.describeScreen(screen(second, second), true)).toContain('Terminal text:');
    expect(context.describeScreen(screen(rows(10, 'new'), second), false)).toContain('Terminal text:\n```\nnew 0');
  });

  it('resends the whole text every few looks so diffs never pile up', () => {
    const context = new ScreenContext({ fullEvery: 3 });
    const lines = rows(10);
    context.describeScreen(screen(lines, undefined), false);
    const kinds = [1, 2, 3].map(() => (context.describeScreen(screen(lines, lines), false).includes('Terminal text:') ? 'full' : 'diff'));
    expect(kinds).toEqual(['diff', 'diff', 'full']);
  });

  it('does not resend an identical screenshot until the old one was dropped', () => {
    const context = new ScreenContext();
    const png = Buffer.from('png-bytes');
    expect(context.isNewImage(png)).toBe(true);
    expect(context.isNewImage(Buffer.from('png-bytes'))).toBe(false);
    expect(context.isNewImage(Buffer.from('other'))).toBe(true);
    context.forgetImage();
    expect(context.isNewImage(Buffer.from('other'))).toBe(true);
  });
});

describe('scaled screenshots', () => {
  it('gives the mouse coordinate space: the whole scaled display, for a crop too', () => {
    const png = Buffer.from('png');
    const full: ScreenResult = { ...screen(['a'], undefined, png), image: { region: { x: 0, y: 0, width: 640, height: 400 }, width: 640, height: 400, scale: 0.5, cropped: false } };
    expect(new ScreenContext().describeScreen(full, false)).toContain('The screenshot is scaled to 640x400; give mouse coordinates in its pixels.');
    const crop: ScreenResult = { ...screen(['a'], undefined, png), image: { region: { x: 600, y: 10, width: 30, height: 20 }, width: 30, height: 20, scale: 0.5, cropped: true } };
    const text = new ScreenContext().describeScreen(crop, false);
    expect(text).toContain('The screenshot is scaled to 640x400 (the whole display); give mouse coordinates in its pixels.');
    expect(text).toContain('30x20 at (600, 10)');
    const unscaled: ScreenResult = { ...screen(['a'], undefined, png), image: { region: { x: 0, y: 0, width: 1280, height: 800 }, width: 1280, height: 800, scale: 1, cropped: false } };
    expect(new ScreenContext().describeScreen(unscaled, false)).not.toContain('scaled');
  });
});
