/**
 * How a secret may be shown: `…` and its last four characters. Values shorter than 12
 * characters show only `…`, since four characters would be a large part of them.
 */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `…${value.slice(-4)}` : '…';
}

/**
 * A function that replaces every occurrence of the given secrets, anywhere in a JSON-like
 * value, by their masks. For event payloads and log lines that might have picked one up.
 */
export function createRedactor(secrets: readonly string[]): (value: unknown) => unknown {
  // Longest first, so a secret that contains another is replaced whole. Very short values are
  // skipped: masking every "a" would destroy the text and protect nothing.
  const targets = [...new Set(secrets)].filter((secret) => secret.length >= 8).sort((a, b) => b.length - a.length);
  const redactText = (text: string) => targets.reduce((result, secret) => result.split(secret).join(maskSecret(secret)), text);
  const redact = (value: unknown): unknown => {
    if (typeof value === 'string') return redactText(value);
    if (Array.isArray(value)) return value.map(redact);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, entry]) => [redactText(key), redact(entry)]));
    }
    return value;
  };
  return redact;
}
