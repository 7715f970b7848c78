import { chordForTextCharacter, parseKeyChord, type KeyChord } from '../rfb/index.js';

/**
 * A keyboard call as the approval policy sees it: the keys in the order they are pressed, cut
 * at every key that submits a line, and the control keys that reach a shell's line editor.
 */

/** A run of keys to send as one keyboard call: some text first, then named keys. */
export interface KeyRun {
  text?: string;
  keys?: string[];
}

/** What is typed up to an Enter (or to the end of the call), and the Enter itself. */
export interface KeyboardSegment {
  /** The keys before the accept key (absent when it comes first). */
  before?: KeyRun;
  /** The accept key (Enter, Ctrl+M, Ctrl+J), as its own run; absent for the call's last stretch. */
  accept?: KeyRun;
  /** Printable text typed in `before` (what a shell's line buffer gains, roughly). */
  typed: string;
  /** Whether `before` moves the cursor or recalls lines (arrows, Home, Escape sequences…). */
  navigates: boolean;
}

const control = 0xffe3;
const alt = 0xffe9;
const superKey = 0xffeb;
const keysym = { Return: 0xff0d, KP_Enter: 0xff8d, Tab: 0xff09, BackSpace: 0xff08, Escape: 0xff1b, Delete: 0xffff } as const;
/** Arrows, Home/End, PageUp/PageDown, Insert. */
const navigationKeys = new Set([0xff50, 0xff51, 0xff52, 0xff53, 0xff54, 0xff55, 0xff56, 0xff57, 0xff63, keysym.Delete]);
/**
 * Ctrl keys that edit or stop without running anything and without bringing back text from
 * elsewhere: interrupt (C), end of input (D), clear the line (U, K, W), move (A, E, B, F),
 * clear the screen (L), suspend (Z), backspace (H).
 */
const harmlessControlLetters = new Set(['c', 'd', 'u', 'k', 'w', 'a', 'e', 'b', 'f', 'l', 'z', 'h']);

interface Atom {
  /** A character of `text`, or a name from `keys`. */
  text?: string;
  key?: string;
  chord: KeyChord;
}

function atomsOf(input: { text?: string; keys?: readonly string[] }): Atom[] {
  const atoms: Atom[] = [];
  for (const character of (input.text ?? '').replace(/\r\n/g, '\n')) atoms.push({ text: character, chord: chordForTextCharacter(character) });
  for (const key of input.keys ?? []) atoms.push({ key, chord: parseKeyChord(key) });
  return atoms;
}

function isAccept(chord: KeyChord): boolean {
  if (chord.modifiers.length === 0) return chord.key === keysym.Return || chord.key === keysym.KP_Enter;
  return chord.modifiers.length === 1 && chord.modifiers[0] === control && (chord.key === 0x6d || chord.key === 0x6a);
}

/** Splits a keyboard call at every accept key; keys that do not parse throw as the tool would. */
export function keyboardSegments(input: { text?: string; keys?: readonly string[] }): KeyboardSegment[] {
  const segments: KeyboardSegment[] = [];
  let current: Atom[] = [];
  const flush = (accept: Atom | undefined): void => {
    const before = toRun(current);
    const typed = current.map((atom) => atom.text ?? (atom.key && [...atom.key].length === 1 ? atom.key : '')).filter((text) => text.length === 1 && text >= ' ' && text !== '\u007f').join('');
    const navigates = current.some((atom) => navigationKeys.has(atom.chord.key) || atom.chord.key === keysym.Escape);
    segments.push({ ...(before ? { before } : {}), ...(accept ? { accept: toRun([accept])! } : {}), typed, navigates });
    current = [];
  };
  for (const atom of atomsOf(input)) {
    if (isAccept(atom.chord)) flush(atom);
    else current.push(atom);
  }
  if (current.length > 0 || segments.length === 0) flush(undefined);
  return segments;
}

function toRun(atoms: readonly Atom[]): KeyRun | undefined {
  if (atoms.length === 0) return undefined;
  const text = atoms.filter((atom) => atom.text !== undefined).map((atom) => atom.text).join('');
  const keys = atoms.filter((atom) => atom.key !== undefined).map((atom) => atom.key!);
  return { ...(text ? { text } : {}), ...(keys.length > 0 ? { keys } : {}) };
}

/**
 * The keys of a call that can run or bring back a command line the screen does not show being
 * typed: Ctrl+O (accept and fetch the next), Ctrl+Y (yank), Ctrl+R/S (history search), Ctrl+X
 * sequences (Ctrl+X Ctrl+E runs the editor's buffer), Alt and Super chords, function keys.
 * Plain Enter, Tab, Backspace, Escape, arrows and the harmless Ctrl keys are not among them.
 */
export function controlKeysOf(input: { text?: string; keys?: readonly string[] }): string[] {
  const found: string[] = [];
  for (const atom of atomsOf(input)) {
    const { modifiers, key } = atom.chord;
    const name = atom.key ?? `\\x${(atom.text?.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`;
    if (modifiers.includes(alt) || modifiers.includes(superKey)) found.push(name);
    else if (modifiers.includes(control)) {
      const letter = String.fromCharCode(key).toLowerCase();
      if (!isAccept(atom.chord) && !harmlessControlLetters.has(letter)) found.push(name);
    } else if (key >= 0xffbe && key <= 0xffc9) found.push(name);
  }
  return [...new Set(found)];
}
