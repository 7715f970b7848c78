import { randomBytes } from 'node:crypto';

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
