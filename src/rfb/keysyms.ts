import { NexoraError } from '../errors.js';
import { describeKeyNames, lookupKeyName, namedKeysyms } from './key-names.js';

/** One RFB KeyEvent: an X keysym pressed or released. */
export interface KeyEvent {
  keysym: number;
  down: boolean;
}

/** A chord such as `ctrl+alt+Delete`: modifier keysyms held (in order) around one key. */
export interface KeyChord {
  modifiers: number[];
  key: number;
}

const modifierKeysyms = new Set<number>([
  namedKeysyms.Shift_L,
  namedKeysyms.Control_L,
  namedKeysyms.Alt_L,
  namedKeysyms.Super_L,
]);

/**
 * The keysym that types one character (a single Unicode code point). ASCII and Latin-1 map
 * directly; everything else uses the Unicode keysym range (0x01000000 + code point), which
 * X servers and x11vnc bind on demand.
 */
export function keysymForCharacter(character: string): number {
  const codePoint = character.codePointAt(0);
  if (codePoint === undefined || String.fromCodePoint(codePoint) !== character) {
    throw new NexoraError('invalid-argument', `keysymForCharacter takes exactly one character, got ${JSON.stringify(character)}.`);
  }
  if ((codePoint >= 0x20 && codePoint <= 0x7e) || (codePoint >= 0xa0 && codePoint <= 0xff)) return codePoint;
  return 0x01000000 + codePoint;
}

/** The keysym of a key name (`Enter`, `PageUp`, `F5`, ... case-insensitive) or of one character. */
export function keysymForKeyName(name: string): number {
  if ([...name].length === 1) return keysymForCharacter(name);
  const canonical = lookupKeyName(name);
  if (canonical === undefined) {
    throw new NexoraError(
      'invalid-argument',
      `Unknown key name ${JSON.stringify(name)}. Use a single character or one of: ${describeKeyNames()} (case-insensitive), combined with ctrl/alt/shift/super as in "ctrl+c".`,
    );
  }
  return namedKeysyms[canonical];
}

/**
 * Parses a chord such as `ctrl+c`, `shift+Tab`, `ctrl+alt+Delete` or `ctrl++`. A letter with
 * shift is sent as its capital (what a real keyboard's client sends); without shift as its
 * lower case, so `ctrl+C` means the same as `ctrl+c`.
 */
export function parseKeyChord(chord: string): KeyChord {
  const trimmed = chord.trim();
  if (trimmed.length === 0) throw new NexoraError('invalid-argument', 'An empty key chord was given: name a key such as "Enter" or "ctrl+c".');
  const parts = trimmed.endsWith('++') ? [...trimmed.slice(0, -2).split('+'), '+'] : trimmed === '+' ? ['+'] : trimmed.split('+');
  if (parts.some((part) => part.length === 0)) {
    throw new NexoraError('invalid-argument', `Malformed key chord ${JSON.stringify(chord)}: write it as modifiers and a key joined by "+", e.g. "ctrl+alt+Delete".`);
  }
  const keyName = parts[parts.length - 1]!;
  const modifiers = parts.slice(0, -1).map((part) => {
    const keysym = keysymForKeyName(part);
    if (!modifierKeysyms.has(keysym)) {
      throw new NexoraError('invalid-argument', `In key chord ${JSON.stringify(chord)}, ${JSON.stringify(part)} is not a modifier: use ctrl, alt, shift or super before the key.`);
    }
    return keysym;
  });
  let key = keysymForKeyName(keyName);
  if (key >= 0x41 && key <= 0x5a && !modifiers.includes(namedKeysyms.Shift_L) && modifiers.length > 0) key += 0x20;
  if (key >= 0x61 && key <= 0x7a && modifiers.includes(namedKeysyms.Shift_L)) key -= 0x20;
  return { modifiers, key };
}

/** Press modifiers in order, tap the key, release modifiers in reverse order. */
export function keyEventsForChord(chord: KeyChord): KeyEvent[] {
  return [
    ...chord.modifiers.map((keysym) => ({ keysym, down: true })),
    { keysym: chord.key, down: true },
    { keysym: chord.key, down: false },
    ...[...chord.modifiers].reverse().map((keysym) => ({ keysym, down: false })),
  ];
}

const controlCharacterChords: Record<number, KeyChord> = {
  0x00: { modifiers: [namedKeysyms.Control_L], key: 0x20 },
  0x08: { modifiers: [], key: namedKeysyms.BackSpace },
  0x09: { modifiers: [], key: namedKeysyms.Tab },
  0x0a: { modifiers: [], key: namedKeysyms.Return },
  0x0d: { modifiers: [], key: namedKeysyms.Return },
  0x1b: { modifiers: [], key: namedKeysyms.Escape },
  0x1c: { modifiers: [namedKeysyms.Control_L], key: 0x5c },
  0x1d: { modifiers: [namedKeysyms.Control_L], key: 0x5d },
  0x1e: { modifiers: [namedKeysyms.Control_L], key: 0x5e },
  0x1f: { modifiers: [namedKeysyms.Control_L], key: 0x5f },
  0x7f: { modifiers: [], key: namedKeysyms.BackSpace },
};

/** The chord that types one character of text: control characters become their keys. */
export function chordForTextCharacter(character: string): KeyChord {
  const codePoint = character.codePointAt(0) ?? 0;
  const special = controlCharacterChords[codePoint];
  if (special) return special;
  // \x01–\x1a are ctrl+a … ctrl+z, as a terminal reads them.
  if (codePoint >= 0x01 && codePoint <= 0x1a) return { modifiers: [namedKeysyms.Control_L], key: 0x60 + codePoint };
  return { modifiers: [], key: keysymForCharacter(character) };
}

/** Keyboard input as the tools describe it: text to type, then keys or chords to press. */
export interface KeyboardInput {
  text?: string;
  keys?: string | readonly string[];
}

/**
 * The exact key down/up sequence for `text` followed by `keys`. Text is sent as the keysym of
 * each character without synthesising shift: x11vnc picks the keycode and modifiers that
 * produce that keysym. `\r\n` counts as one Return.
 */
export function keyEventsForInput(input: KeyboardInput): KeyEvent[] {
  const events: KeyEvent[] = [];
  const text = (input.text ?? '').replace(/\r\n/g, '\n');
  for (const character of text) events.push(...keyEventsForChord(chordForTextCharacter(character)));
  const keys = typeof input.keys === 'string' ? [input.keys] : (input.keys ?? []);
  for (const chord of keys) events.push(...keyEventsForChord(parseKeyChord(chord)));
  return events;
}
