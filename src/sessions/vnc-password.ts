import { randomBytes } from 'node:crypto';
import { vncPasswordContext } from '../secrets/index.js';
import type { Db, Queryable, SessionId, SessionStore } from '../store/index.js';

/** Seals and opens the per-session VNC password with the master key (secrets/). */
export interface PasswordSealer {
  /** `context` is authenticated with the ciphertext: a password copied to another session does not open. */
  seal(plaintext: string, context: string): Promise<string> | string;
  open(sealed: string, context: string): Promise<string> | string;
  /** Holds the lock key rotation takes, for the rest of `tx` (see secrets' holdSecretsLock). */
  lock?(tx: Queryable): Promise<void>;
}

// RFB's VNC authentication uses only the first 8 bytes of a password.
const LENGTH = 8;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A fresh random VNC password (8 characters, the most VNC authentication uses). */
export function newVncPassword(): string {
  let password = '';
  // Rejection sampling keeps every character equally likely.
  while (password.length < LENGTH) {
    for (const byte of randomBytes(16)) {
      if (byte < 256 - (256 % ALPHABET.length) && password.length < LENGTH) password += ALPHABET[byte % ALPHABET.length];
    }
  }
  return password;
}

/** How a password may be shown: never in full without an explicit request. */
export function maskPassword(password: string): string {
  return '•'.repeat(password.length);
}

/**
 * Seals a session's password and stores it in one transaction under the secrets lock, with the
 * key read inside it: a `keys rotate` running at the same time either re-seals this row or
 * waits for it, so the session stays resumable whichever commits first.
 */
export async function storeVncPassword(options: { db: Db; sessions: SessionStore; sealer: PasswordSealer; sessionId: SessionId; password: string }): Promise<void> {
  await options.db.transaction(async (tx) => {
    await options.sealer.lock?.(tx);
    const sealed = await options.sealer.seal(options.password, vncPasswordContext(options.sessionId));
    await options.sessions.setVncPassword(options.sessionId, sealed, tx);
  });
}
