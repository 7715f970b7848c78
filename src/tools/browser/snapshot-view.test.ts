import { describe, expect, it } from 'vitest';
import { diffLines, viewSnapshot } from './snapshot-view.js';

const page = Array.from({ length: 30 }, (_, index) => `- listitem [ref=e${index + 2}]: item ${index}`);
const snapshot = ['- heading "Todo" [level=1] [ref=e1]', ...page].join('\n');

describe('viewSnapshot', () => {
  it('sends the whole snapshot on a first look', () => {
    const view = viewSnapshot({ snapshot, maxChars: 10_000 });
    expect(view).toMatchObject({ kind: 'full', truncated: false, changedLines: 0 });
    expect(view.text).toBe(snapshot);
  });

  it('says unchanged when nothing changed', () => {
    const view = viewSnapshot({ snapshot, previous: snapshot, maxChars: 10_000 });
    expect(view.kind).toBe('unchanged');
    expect(view.text).toContain('unchanged');
  });

  it('sends only the changed lines, placed, when little changed', () => {
    const after = snapshot.replace('item 4', 'item four') + '\n- listitem [ref=e40]: added';
    const view = viewSnapshot({ snapshot: after, previous: snapshot, maxChars: 10_000 });
    expect(view.kind).toBe('changes');
    expect(view.changedLines).toBe(3);
    expect(view.text).toContain('- - listitem [ref=e6]: item 4');
    expect(view.text).toContain('+ - listitem [ref=e6]: item four');
    expect(view.text).toContain('+ - listitem [ref=e40]: added');
    expect(view.text).not.toContain('item 10');
  });

  it('sends the whole snapshot when much changed, or when asked', () => {
    const other = page.map((line) => line.replace('item', 'row')).join('\n');
    expect(viewSnapshot({ snapshot: other, previous: snapshot, maxChars: 10_000 }).kind).toBe('full');
    expect(viewSnapshot({ snapshot, previous: snapshot, full: true, maxChars: 10_000 }).kind).toBe('full');
  });

  it('truncates big pages at whole lines from the top, saying how much is left', () => {
    const big = Array.from({ length: 2000 }, (_, index) => `- paragraph [ref=e${index}]: text ${index}`).join('\n');
    const view = viewSnapshot({ snapshot: big, maxChars: 2000 });
    expect(view.truncated).toBe(true);
    expect(view.text.length).toBeLessThanOrEqual(2200);
    expect(view.text.startsWith('- paragraph [ref=e0]: text 0\n')).toBe(true);
    expect(view.text).toMatch(/\[… \d+ more lines/);
  });
});

describe('diffLines', () => {
  it('finds insertions, deletions and replacements', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual([
      { line: 1, context: 'a', removed: ['b'], added: ['x'] },
      { line: 3, context: 'c', removed: [], added: ['d'] },
    ]);
    expect(diffLines(['a', 'b'], ['b'])).toEqual([{ line: 0, removed: ['a'], added: [] }]);
  });
});
