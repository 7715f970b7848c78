/**
 * Text from the model or a workstation, made inert before it reaches a terminal (or a file a
 * person will `cat`): every code point a terminal would act on, or that hides or reorders
 * text, is replaced by a visible stand-in.
 *
 * The stand-ins, one form per class:
 * - C0 controls and DEL: their Unicode control pictures, one column each — ESC `␛`, BEL `␇`,
 *   CR `␍`, backspace `␈`, NUL `␀` (as records already store it), DEL `␡`; in a one-line
 *   context also newline `␤` and tab `␉`. Not `\x1b` or `\r`: those are ordinary text in a
 *   shell command (`printf '\r'`), and a real CR must never look like them.
 * - C1 controls (U+0080–U+009F), bidi embeddings, overrides, isolates and marks, zero-width
 *   and other invisible format characters, line/paragraph separators and Unicode tag
 *   characters: `<U+202E>` (they have no picture).
 * Kept: newline and tab (unless `oneLine`), and ZWJ/ZWNJ (U+200C/U+200D), which emoji and
 * several scripts need and which cannot hide a character by themselves. In multi-line text a
 * CR right before a newline is dropped: it moves nothing the newline does not.
 *
 * The output contains none of the replaced code points, so applying it twice changes nothing.
 */
export interface VisibleControlsOptions {
  /** A one-line context (a prompt, a table cell, a summary): newlines and tabs become visible too. */
  oneLine?: boolean;
}

// The invisible and reordering code points that are not controls (beside the C0/DEL/C1 ranges).
const invisibleBmp = '\\u00ad\\u061c\\u180e\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb';
const invisible = `${invisibleBmp}\\u{e0000}-\\u{e007f}`;
const multiLine = new RegExp(`\\r\\n|[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${invisible}]`, 'gu');
const singleLine = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${invisible}]`, 'gu');
// The fast path: one scan without the `u` flag (about twice as fast), the tags' lead surrogate
// standing for the whole block; a rare false hit only costs the exact replace.
const multiLineTest = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${invisibleBmp}\\udb40]`);
const singleLineTest = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${invisibleBmp}\\udb40]`);

function standIn(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code === 0x0a) return '␤';
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '␡';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** `text` with its terminal-dangerous code points made visible (see the module comment for the forms). */
export function visibleControls(text: string, options: VisibleControlsOptions = {}): string {
  // Most text has none: one test, no copy.
  if (options.oneLine) return singleLineTest.test(text) ? text.replace(singleLine, standIn) : text;
  if (!multiLineTest.test(text)) return text;
  return text.replace(multiLine, (match) => (match === '\r\n' ? '\n' : standIn(match)));
}

// What JSON.stringify leaves raw that a terminal acts on or that hides text (it escapes C0 itself).
const jsonUnsafe = new RegExp(`[\\u007f-\\u009f${invisible}]`, 'gu');

/**
 * A value as JSON (one line, or indented) that is inert on a terminal and still means the same: the code
 * points `visibleControls` replaces are written as `\uXXXX` escapes (JSON.stringify escapes C0
 * itself, but not DEL, C1 or the invisible ones), so a program reading `--json` output gets the
 * exact text.
 */
export function inertJson(value: unknown, options: { indent?: number } = {}): string {
  const text = JSON.stringify(value, null, options.indent) ?? 'null';
  return text.replace(jsonUnsafe, (match) => match.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''));
}
