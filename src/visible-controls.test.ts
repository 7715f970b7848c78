import { describe, expect, it } from 'vitest';
import { inertJson, visibleControls } from './visible-controls.js';

/** Every code point a terminal acts on or that hides text, for the "none left" checks. */
// eslint-disable-next-line no-control-regex -- the point of the test: no control character survives
const dangerous = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}]/u;

describe('visibleControls', () => {
  it('shows C0 controls and DEL as control pictures', () => {
    expect(visibleControls('rm -rf ~ #\r\x1b[2K    npm test')).toBe('rm -rf ~ #␍␛[2K    npm test');
    expect(visibleControls('ding\x07 back\b\b nul\0 del\x7f')).toBe('ding␇ back␈␈ nul␀ del␡');
    expect(visibleControls('\x1b]52;c;aGk=\x07')).toBe('␛]52;c;aGk=␇');
    expect(visibleControls('\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\')).toBe('␛]8;;http://x␛\\link␛]8;;␛\\');
    expect(visibleControls('\x0b\x0c\x1f')).toBe('␋␌␟');
  });

  it('shows C1 controls (an 8-bit CSI or OSC works like ESC [ or ESC ])', () => {
    expect(visibleControls('a\u009b2Jb\u009d52;c;x\u009c')).toBe('a<U+009B>2Jb<U+009D>52;c;x<U+009C>');
    expect(visibleControls('\u0080\u0085\u009f')).toBe('<U+0080><U+0085><U+009F>');
  });

  it('shows bidi overrides, isolates and marks, and invisible characters', () => {
    // "Trojan source": the override makes `rm` read as something else.
    expect(visibleControls('echo \u202Emr\u202C ok')).toBe('echo <U+202E>mr<U+202C> ok');
    expect(visibleControls('\u202a\u202b\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c')).toBe('<U+202A><U+202B><U+202D><U+2066><U+2067><U+2068><U+2069><U+200E><U+200F><U+061C>');
    expect(visibleControls('r\u200bm \ufeff\u2060\u00ad')).toBe('r<U+200B>m <U+FEFF><U+2060><U+00AD>');
    expect(visibleControls('a\u2028b\u2029c')).toBe('a<U+2028>b<U+2029>c');
    // Unicode tags spell hidden ASCII ("ASCII smuggling").
    expect(visibleControls('hi\u{e0068}\u{e0069}')).toBe('hi<U+E0068><U+E0069>');
  });

  it('keeps newlines and tabs in multi-line text, drops a CR before a newline, and keeps ordinary text', () => {
    expect(visibleControls('line 1\r\n\tline 2\nline 3\r')).toBe('line 1\n\tline 2\nline 3␍');
    const ordinary = 'Fixed the bug: `npm test` passes. Ünïcödé, 日本語, emoji 👨‍👩‍👧 and ZWNJ می‌خواهم stay.';
    expect(visibleControls(ordinary)).toBe(ordinary);
  });

  it('turns newlines and tabs visible in a one-line context', () => {
    expect(visibleControls('ls\nrm -rf ~\tx\r\n', { oneLine: true })).toBe('ls␤rm -rf ~␉x␍␤');
    expect(visibleControls('plain', { oneLine: true })).toBe('plain');
  });

  it('is idempotent and leaves nothing dangerous, for every code point it handles', () => {
    const all = [...Array.from({ length: 0xa0 }, (_, code) => String.fromCharCode(code)), '\u00ad\u061c\u180e\u200b\u200e\u200f\u2028\u2029\u202a\u202e\u2060\u2064\u2066\u2069\u206f\ufeff\ufff9\ufffb\u{e0000}\u{e007f}'].join('');
    for (const oneLine of [false, true]) {
      const once = visibleControls(all, { oneLine });
      expect(visibleControls(once, { oneLine })).toBe(once);
      expect(once.replace(/[\n\t]/g, '')).not.toMatch(dangerous);
      if (oneLine) expect(once).not.toMatch(/[\n\t]/);
    }
  });

  it('returns the same string when there is nothing to replace, quickly', () => {
    const text = 'an ordinary line of model output, long enough to matter. '.repeat(20_000);
    const started = performance.now();
    for (let round = 0; round < 20; round++) expect(visibleControls(text)).toBe(text);
    // 20 × 1.1 MB: a regex test per call, no copy (about 1 ms a round here).
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('inertJson', () => {
  it('escapes what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { text: 'a\x1b[2J\u009b\u202e\x7f\u{e0041}b', n: 1 };
    const line = inertJson(value);
    expect(line).not.toMatch(dangerous);
    expect(line).toBe('{"text":"a\\u001b[2J\\u009b\\u202e\\u007f\\udb40\\udc41b","n":1}');
    expect(JSON.parse(line)).toEqual(value);
  });
});
