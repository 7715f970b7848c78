import { describe, expect, it } from 'vitest';
import { diffScreens } from './screen-diff.js';

describe('diffScreens', () => {
  it('calls the first look a first look', () => {
    expect(diffScreens(undefined, ['a'])).toEqual({ firstLook: true, changedLines: [], summary: 'first look' });
  });

  it('names the changed rows compactly', () => {
    const changes = diffScreens(['$ ', '', '', '', ''], ['$ ls', 'a', 'b', '', '$ ']);
    expect(changes.changedLines).toEqual([
      { row: 0, text: '$ ls' },
      { row: 1, text: 'a' },
      { row: 2, text: 'b' },
      { row: 4, text: '$ ' },
    ]);
    expect(changes.summary).toBe('4 lines changed (rows 0-2, 4)');
  });

  it('says when nothing changed', () => {
    expect(diffScreens(['x'], ['x']).summary).toBe('no change');
  });
});
