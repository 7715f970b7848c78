import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NexoraError } from '../errors.js';
import type { Keyring, MasterKey } from './master-key.js';

/** AES-256-GCM output: everything needed to decrypt except the key itself. */
export interface Sealed {
  keyId: string;
  /** 96 bits, fresh and random for every seal. */
  nonce: Buffer;
  ciphertext: Buffer;
  /** 128-bit GCM authentication tag. */
  tag: Buffer;
}

const nonceLength = 12;
const tagLength = 16;

/**
 * Encrypts `plaintext` with AES-256-GCM under a fresh random nonce. `context` (for example
 * `providers_auth:openai`) is authenticated but not stored: the result opens only with the
 * same context, so a ciphertext copied onto another row does not decrypt.
 */
export function seal(key: MasterKey, plaintext: string, context = ''): Sealed {
  const nonce = randomBytes(nonceLength);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: tagLength });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: key.id, nonce, ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Decrypts what `seal` produced, with the key it names (from a keyring) or the key given.
 * Fails with 'secret-decrypt-failed' when the key is not the one used or anything was altered.
 */
export function open(keys: MasterKey | Keyring, sealed: Sealed, context = ''): string {
  const key = 'current' in keys ? keys.byId(sealed.keyId) : keys.id === sealed.keyId ? keys : undefined;
  if (!key) {
    const have = 'current' in keys ? keys.current.id : keys.id;
    throw new NexoraError(
      'secret-decrypt-failed',
      `This secret was encrypted with master key ${sealed.keyId}, but the master key here is ${have}. Restore the master key file it was stored with, or store the secret again (\`nexora keys set <provider>\`).`,
    );
  }
  if (sealed.nonce.length !== nonceLength || sealed.tag.length !== tagLength) {
    throw tampered(key.id);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.nonce, { authTagLength: tagLength });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch (error) {
    throw tampered(key.id, error);
  }
}

function tampered(keyId: string, cause?: unknown): NexoraError {
  return new NexoraError(
    'secret-decrypt-failed',
    `A stored secret failed authentication under master key ${keyId}: its ciphertext, nonce or tag was altered, or the master key file was replaced by a different key with the same name. Store the secret again (\`nexora keys set <provider>\`).`,
    { cause },
  );
}

/** `seal` as one line of text, `v1.<keyId>.<nonce>.<ciphertext>.<tag>` (base64url), for a text column. */
export function sealText(key: MasterKey, plaintext: string, context = ''): string {
  const sealed = seal(key, plaintext, context);
  return ['v1', sealed.keyId, ...[sealed.nonce, sealed.ciphertext, sealed.tag].map((part) => part.toString('base64url'))].join('.');
}

/** Opens what `sealText` produced. */
export function openText(keys: MasterKey | Keyring, text: string, context = ''): string {
  return open(keys, parseSealedText(text), context);
}

/** The parts of a `sealText` line. */
export function parseSealedText(text: string): Sealed {
  const parts = text.split('.');
  const [version, keyId, nonce, ciphertext, tag] = parts;
  if (parts.length !== 5 || version !== 'v1' || !keyId || nonce === undefined || ciphertext === undefined || tag === undefined) {
    throw new NexoraError('secret-decrypt-failed', 'A stored secret is not in the v1 sealed format: it is damaged. Store it again.');
  }
  return { keyId, nonce: Buffer.from(nonce, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url'), tag: Buffer.from(tag, 'base64url') };
}
