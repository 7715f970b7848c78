import { describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { keyEventsForInput, keysymForCharacter, keysymForKeyName, parseKeyChord } from './keysyms.js';

const press = (keysym: number) => [
  { keysym, down: true },
  { keysym, down: false },
];

describe('keysymForCharacter', () => {
  it('maps ASCII, Latin-1 and other Unicode', () => {
    expect(keysymForCharacter('a')).toBe(0x61);
    expect(keysymForCharacter('A')).toBe(0x41);
    expect(keysymForCharacter('~')).toBe(0x7e);
    expect(keysymForCharacter('é')).toBe(0xe9);
    expect(keysymForCharacter('€')).toBe(0x010020ac);
    expect(keysymForCharacter('😀')).toBe(0x0101f600);
  });

  it('rejects more than one character', () => {
    expect(() => keysymForCharacter('ab')).toThrow(NexoraError);
  });
});

describe('keysymForKeyName', () => {
  it.each([
    ['Enter', 0xff0d],
    ['return', 0xff0d],
    ['ESC', 0xff1b],
    ['Tab', 0xff09],
    ['Backspace', 0xff08],
    ['Delete', 0xffff],
    ['Insert', 0xff63],
    ['home', 0xff50],
    ['End', 0xff57],
    ['PageUp', 0xff55],
    ['page_down', 0xff56],
    ['Up', 0xff52],
    ['ArrowLeft', 0xff51],
    ['F1', 0xffbe],
    ['f12', 0xffc9],
    ['Space', 0x20],
  ])('%s is %i', (name, keysym) => {
    expect(keysymForKeyName(name)).toBe(keysym);
  });

  it('names the key and lists valid names when it does not know one', () => {
    try {
      keysymForKeyName('Frobnicate');
      expect.unreachable();
    } catch (error) {
      expect(NexoraError.is(error, 'invalid-argument')).toBe(true);
      expect((error as Error).message).toContain('"Frobnicate"');
      expect((error as Error).message).toContain('PageDown');
    }
  });
});

describe('parseKeyChord', () => {
  it('parses modifiers and key', () => {
    expect(parseKeyChord('ctrl+c')).toEqual({ modifiers: [0xffe3], key: 0x63 });
    expect(parseKeyChord('ctrl+C')).toEqual({ modifiers: [0xffe3], key: 0x63 });
    expect(parseKeyChord('alt+x')).toEqual({ modifiers: [0xffe9], key: 0x78 });
    expect(parseKeyChord('shift+Tab')).toEqual({ modifiers: [0xffe1], key: 0xff09 });
    expect(parseKeyChord('shift+a')).toEqual({ modifiers: [0xffe1], key: 0x41 });
    expect(parseKeyChord('super+l')).toEqual({ modifiers: [0xffeb], key: 0x6c });
    expect(parseKeyChord('Ctrl+Alt+Delete')).toEqual({ modifiers: [0xffe3, 0xffe9], key: 0xffff });
    expect(parseKeyChord('ctrl++')).toEqual({ modifiers: [0xffe3], key: 0x2b });
    expect(parseKeyChord('Enter')).toEqual({ modifiers: [], key: 0xff0d });
  });

  it('rejects non-modifiers before the key and empty parts', () => {
    expect(() => parseKeyChord('a+b')).toThrow(/not a modifier/);
    expect(() => parseKeyChord('ctrl+')).toThrow(NexoraError);
    expect(() => parseKeyChord('')).toThrow(NexoraError);
    expect(() => parseKeyChord('ctrl+nope')).toThrow(/Unknown key name "nope"/);
  });
});

describe('keyEventsForInput', () => {
  it('types text as the keysym of each character, without synthesising shift', () => {
    expect(keyEventsForInput({ text: 'aB!' })).toEqual([...press(0x61), ...press(0x42), ...press(0x21)]);
  });

  it('maps control characters in text to their keys', () => {
    expect(keyEventsForInput({ text: 'x\r\n\t\x1b\x7f\b' })).toEqual([
      ...press(0x78),
      ...press(0xff0d),
      ...press(0xff09),
      ...press(0xff1b),
      ...press(0xff08),
      ...press(0xff08),
    ]);
    expect(keyEventsForInput({ text: '\x03' })).toEqual([
      { keysym: 0xffe3, down: true },
      ...press(0x63),
      { keysym: 0xffe3, down: false },
    ]);
  });

  it('keeps non-ASCII text intact, one event pair per code point', () => {
    expect(keyEventsForInput({ text: 'é€😀' })).toEqual([...press(0xe9), ...press(0x010020ac), ...press(0x0101f600)]);
  });

  it('presses chords after the text, releasing modifiers in reverse order', () => {
    expect(keyEventsForInput({ text: 'ls', keys: ['Enter', 'ctrl+alt+Delete'] })).toEqual([
      ...press(0x6c),
      ...press(0x73),
      ...press(0xff0d),
      { keysym: 0xffe3, down: true },
      { keysym: 0xffe9, down: true },
      ...press(0xffff),
      { keysym: 0xffe9, down: false },
      { keysym: 0xffe3, down: false },
    ]);
    expect(keyEventsForInput({ keys: 'Escape' })).toEqual(press(0xff1b));
  });
});
