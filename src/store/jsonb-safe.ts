/**
 * PostgreSQL's jsonb rejects `\u0000` and unpaired surrogates ("unsupported Unicode escape
 * sequence"), and both arrive in ordinary input: a binary file printed by a command, a NUL in
 * model text. One bad character must not fail the insert (and with it the run), so strings and
 * keys are made storable: NUL becomes ␀ (U+2400), an unpaired surrogate U+FFFD.
 */
export function jsonbSafe(value: unknown): unknown {
  if (typeof value === 'string') return safeString(value);
  if (Array.isArray(value)) return value.map(jsonbSafe);
  if (value !== null && typeof value === 'object') {
    // Objects with their own toJSON (Date, Buffer) serialise as they would have.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return jsonbSafe((value as { toJSON(): unknown }).toJSON());
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [safeString(key), jsonbSafe(inner)]));
  }
  return value;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const unsafe = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function safeString(text: string): string {
  return text.replace(unsafe, (match) => (match === '\u0000' ? '\u2400' : '\ufffd'));
}
