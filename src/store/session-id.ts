import { randomBytes } from 'node:crypto';
import { NexoraError } from '../errors.js';

/** A session's id: `ses_` and 20 random base32 characters. Branded so it can't be mixed up with other ids. */
export type SessionId = string & { readonly __brand: 'SessionId' };

const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new random session id (100 bits of randomness). */
export function newSessionId(): SessionId {
  return `ses_${randomBase32(20)}` as SessionId;
}

/** Checks an id from outside (CLI argument, URL) and brands it. */
export function parseSessionId(value: string): SessionId {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(value)) {
    throw new NexoraError('invalid-argument', `"${value.slice(0, 40)}" is not a session id: ids look like ses_k3v9… (see \`nexora session list\`).`);
  }
  return value as SessionId;
}

/** Random lowercase base32 text, for ids. */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let text = '';
  for (const byte of bytes) text += alphabet[byte & 31];
  return text;
}
