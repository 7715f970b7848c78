import { describe, expect, it } from 'vitest';
import { controlKeysOf, keyboardSegments } from './keyboard-keys.js';

describe('keyboardSegments', () => {
  it('cuts a call at every Enter, in the order the keys are pressed (text, then keys)', () => {
    expect(keyboardSegments({ text: 'ls\ncd src\r\npwd', keys: ['Home', 'Enter'] })).toEqual([
      { before: { text: 'ls' }, accept: { text: '\n' }, typed: 'ls', navigates: false },
      { before: { text: 'cd src' }, accept: { text: '\n' }, typed: 'cd src', navigates: false },
      { before: { text: 'pwd', keys: ['Home'] }, accept: { keys: ['Enter'] }, typed: 'pwd', navigates: true },
    ]);
  });

  it('counts Ctrl+M, Ctrl+J and the keypad Enter as Enter, and keeps a trailing stretch', () => {
    expect(keyboardSegments({ keys: ['ctrl+m', 'ctrl+j', 'KP_Enter', 'x'] }).map((segment) => segment.accept ?? 'end')).toEqual([{ keys: ['ctrl+m'] }, { keys: ['ctrl+j'] }, { keys: ['KP_Enter'] }, 'end']);
    expect(keyboardSegments({ text: 'ls' })).toEqual([{ before: { text: 'ls' }, typed: 'ls', navigates: false }]);
  });
});

describe('controlKeysOf', () => {
  it('finds the keys that can run or bring back a line, in keys and in text', () => {
    expect(controlKeysOf({ text: 'a\u000fb\u0019\u0012\u0018', keys: ['alt+.', 'F2', 'ctrl+o', 'super+x'] })).toEqual(['\\x0f', '\\x19', '\\x12', '\\x18', 'alt+.', 'F2', 'ctrl+o', 'super+x']);
  });

  it('lets editing, moving and stopping keys through', () => {
    expect(controlKeysOf({ text: 'ls\t\u007f\b\u001b[A\u0003\u0004\u0015\n\r', keys: ['Enter', 'Tab', 'Escape', 'Up', 'Home', 'Delete', 'ctrl+c', 'ctrl+a', 'ctrl+e', 'ctrl+k', 'ctrl+w', 'ctrl+l', 'ctrl+z', 'ctrl+m', 'ctrl+j', 'shift+Tab'] })).toEqual([]);
  });
});
