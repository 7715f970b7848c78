import { z } from 'zod';
import { NexoraError, describeError } from '../errors.js';
import { createRedactor, maskSecret } from './mask.js';
import type { Keyring, MasterKey, MasterKeyStore, Rotation } from './master-key.js';
import { open, openText, seal, sealText, type Sealed } from './seal.js';
// The sessions table is the store's: the rotation re-seals its passwords through it, in this transaction.
import { resealVncPasswords } from '../store/sessions-repository.js';

/** What the key store needs of a database (the store's `Db` fits). */
export interface KeyDatabase {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  transaction<T>(fn: (tx: { query: KeyDatabase['query'] }) => Promise<T>): Promise<T>;
}

/** A stored key as it may be shown: never the key, only its mask. */
export interface ProviderKeyInfo {
  provider: string;
  /** `…` and the last four characters. */
  masked: string;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  expired: boolean;
  /** Why the key cannot be decrypted, when it cannot (then `masked` says so too). */
  problem?: string;
}

export interface RotationResult {
  keyId: string;
  previousKeyId: string;
  providerKeys: number;
  vncPasswords: number;
}

export const providerNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'provider names are lowercase letters, digits, ".", "_" and "-" (e.g. openai, anthropic, my-ollama)');

const apiKeySchema = z
  .string()
  .min(1, 'the key is empty')
  .max(8192, 'the key is longer than 8192 characters')
  .refine((value) => !/[\r\n]/.test(value), 'the key contains a line break')
  .refine((value) => value.trim() === value, 'the key starts or ends with white space');

interface KeyRow {
  provider_name: string;
  encrypted_api_key: Uint8Array;
  nonce: Uint8Array;
  auth_tag: Uint8Array;
  encryption_key_id: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
}

// Any fixed 64-bit number; every nexora process must use the same one.
const secretsLockKey = 7_340_117_002;

const columns = 'provider_name, encrypted_api_key, nonce, auth_tag, encryption_key_id, created_at, updated_at, expires_at';

/**
 * Takes the secrets lock for the rest of `tx`. Everything that seals a row with the master key
 * (provider keys, session VNC passwords) holds it from reading the key to writing the row, and
 * rotation holds it throughout: a row is never written under a key that rotation is retiring.
 */
export async function holdSecretsLock(tx: { query: KeyDatabase['query'] }): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [secretsLockKey]);
}

/** The context a provider key is sealed under: a row's ciphertext opens only on its own row. */
export function providerKeyContext(provider: string): string {
  return `providers_auth:${provider}`;
}

/** The context a session's VNC password is sealed under (see SessionStore.setVncPassword). */
export function vncPasswordContext(sessionId: string): string {
  return `sessions.vnc_password:${sessionId}`;
}

/**
 * Provider API keys, encrypted with the master key in `providers_auth`. Keys are decrypted
 * only in memory, on request; nothing here logs, and no error message contains a key.
 */
export class ProviderKeyStore {
  private readonly db: KeyDatabase;
  private readonly masterKeys: MasterKeyStore;
  private readonly now: () => Date;
  private liveMask: ((value: unknown) => unknown) | undefined;

  constructor(options: { db: KeyDatabase; masterKeys: MasterKeyStore; now?: () => Date }) {
    this.db = options.db;
    this.masterKeys = options.masterKeys;
    this.now = options.now ?? (() => new Date());
  }

  /** Stores (or replaces) a provider's key. */
  async set(provider: string, apiKey: string, options: { expiresAt?: Date | null } = {}): Promise<ProviderKeyInfo> {
    const name = parseProvider(provider);
    const checked = apiKeySchema.safeParse(apiKey);
    if (!checked.success) {
      throw new NexoraError('invalid-argument', `That ${name} key cannot be stored: ${checked.error.issues[0]?.message ?? 'it is not valid'}. Paste the key exactly as the provider shows it.`);
    }
    const rows = await this.db.transaction(async (tx) => {
      // Under the rotation lock, and reading the key file now, so a rotation by another
      // process can neither miss this row nor retire the key it is sealed with.
      await holdSecretsLock(tx);
      const sealed = seal(this.masterKeys.load().current, apiKey, providerKeyContext(name));
      return tx.query<KeyRow>(
        `INSERT INTO providers_auth (provider_name, encrypted_api_key, nonce, auth_tag, encryption_key_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (provider_name) DO UPDATE SET
           encrypted_api_key = EXCLUDED.encrypted_api_key, nonce = EXCLUDED.nonce, auth_tag = EXCLUDED.auth_tag,
           encryption_key_id = EXCLUDED.encryption_key_id, expires_at = EXCLUDED.expires_at, updated_at = now()
         RETURNING ${columns}`,
        [name, sealed.ciphertext, sealed.nonce, sealed.tag, sealed.keyId, options.expiresAt ?? null],
      );
    });
    const row = rows[0];
    if (!row) throw new NexoraError('database-failed', `Storing the ${name} key returned no row.`);
    await this.refreshLiveRedactor();
    return this.describe(row, apiKey);
  }

  /**
   * A redactor for long-lived writers (the server's session layer) that follows the keys stored
   * and removed through this instance: refreshed after each `set` and `remove`.
   */
  async liveRedactor(): Promise<(value: unknown) => unknown> {
    this.liveMask ??= await this.redactor();
    return (value) => this.liveMask!(value);
  }

  private async refreshLiveRedactor(): Promise<void> {
    if (this.liveMask) this.liveMask = await this.redactor().catch(() => this.liveMask);
  }

  /** The decrypted key; fails when there is none or it has expired. */
  async get(provider: string): Promise<string> {
    const name = parseProvider(provider);
    const row = await this.row(name);
    if (row.expires_at && new Date(row.expires_at) <= this.now()) {
      throw new NexoraError('secret-expired', `The ${name} key expired on ${new Date(row.expires_at).toISOString()}: store a new one with \`nexora keys set ${name}\`.`);
    }
    return open(this.masterKeys.load({ create: false }), toSealed(row), providerKeyContext(name));
  }

  /**
   * The key when one is stored, undefined when none is (the providers' ApiKeySource). An
   * expired key is an error rather than undefined, so it is not silently replaced by another.
   */
  async getApiKey(provider: string): Promise<string | undefined> {
    return (await this.has(provider)) ? this.get(provider) : undefined;
  }

  /**
   * A redactor (see createRedactor) that masks every stored key, for event payloads and logs:
   * `new EventStore(db, { redact: await keys.redactor() })`. Keys that cannot be decrypted
   * are skipped. The decrypted keys stay in the returned function's memory only.
   */
  async redactor(): Promise<(value: unknown) => unknown> {
    const rows = await this.db.query<KeyRow>(`SELECT ${columns} FROM providers_auth`);
    if (rows.length === 0) return createRedactor([]);
    const keyring = this.masterKeys.load({ create: false });
    const secrets = rows.flatMap((row) => {
      try {
        return [open(keyring, toSealed(row), providerKeyContext(row.provider_name))];
      } catch {
        return [];
      }
    });
    return createRedactor(secrets);
  }

  /** Whether a key is stored for the provider (expired or not). */
  async has(provider: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM providers_auth WHERE provider_name = $1', [parseProvider(provider)]);
    return rows.length > 0;
  }

  /**
   * Every stored key, masked, by provider name. A key that cannot be decrypted is listed with
   * `problem` saying why, so the others still show and it can be removed.
   */
  async list(): Promise<ProviderKeyInfo[]> {
    const rows = await this.db.query<KeyRow>(`SELECT ${columns} FROM providers_auth ORDER BY provider_name`);
    if (rows.length === 0) return [];
    let keyring: Keyring | undefined;
    let keyringProblem: string | undefined;
    try {
      keyring = this.masterKeys.load({ create: false });
    } catch (error) {
      keyringProblem = describeError(error);
    }
    return rows.map((row) => {
      try {
        if (!keyring) throw new NexoraError('secret-not-found', keyringProblem ?? 'no master key');
        return this.describe(row, open(keyring, toSealed(row), providerKeyContext(row.provider_name)));
      } catch (error) {
        return { ...this.describe(row, ''), masked: '(cannot decrypt)', problem: describeError(error) };
      }
    });
  }

  /** Deletes a provider's key; false when there was none. */
  async remove(provider: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM providers_auth WHERE provider_name = $1 RETURNING provider_name', [parseProvider(provider)]);
    await this.refreshLiveRedactor();
    return rows.length > 0;
  }

  /**
   * Re-encrypts every provider key and every live session's VNC password under a new master
   * key in one transaction. The new key becomes master.key before the transaction commits and
   * the old file is kept until after, so if anything fails or the process dies before the
   * commit, the old key still opens every row (and is put back when the failure is seen).
   */
  async rotate(options: { beforeCommit?: () => void | Promise<void> } = {}): Promise<RotationResult> {
    let rotation: Rotation | undefined;
    const counts = await this.db.transaction(async (tx) => {
      // Writers of sealed rows take the same lock, so none seals with a key being retired.
      await holdSecretsLock(tx);
      const keyring = this.masterKeys.load();
      const started = this.masterKeys.beginRotation();
      rotation = started;
      try {
        const providerRows = await tx.query<KeyRow>(`SELECT ${columns} FROM providers_auth ORDER BY provider_name FOR UPDATE`);
        for (const row of providerRows) {
          const context = providerKeyContext(row.provider_name);
          const sealed = seal(started.next, open(keyring, toSealed(row), context), context);
          await tx.query('UPDATE providers_auth SET encrypted_api_key = $2, nonce = $3, auth_tag = $4, encryption_key_id = $5, updated_at = now() WHERE provider_name = $1', [
            row.provider_name,
            sealed.ciphertext,
            sealed.nonce,
            sealed.tag,
            sealed.keyId,
          ]);
        }
        const vncPasswords = await resealVncPasswords(tx, (sessionId, sealed) => {
          const context = vncPasswordContext(sessionId);
          return sealText(started.next, openText(keyring, sealed, context), context);
        });
        await options.beforeCommit?.();
        return { providerKeys: providerRows.length, vncPasswords };
      } catch (error) {
        // Nothing is committed and we still hold the lock: the old key goes back in place.
        started.abort();
        rotation = undefined;
        throw error;
      }
    });
    if (!rotation) throw new NexoraError('secret-decrypt-failed', 'The key rotation did not start.');
    // A failure of COMMIT itself leaves both key files: whichever way it went, every row opens.
    rotation.finish();
    return { keyId: rotation.next.id, previousKeyId: rotation.previous.id, ...counts };
  }

  private async row(name: string): Promise<KeyRow> {
    const rows = await this.db.query<KeyRow>(`SELECT ${columns} FROM providers_auth WHERE provider_name = $1`, [name]);
    const row = rows[0];
    if (!row) throw new NexoraError('secret-not-found', `No key is stored for ${name}: add one with \`nexora keys set ${name}\`.`);
    return row;
  }

  private describe(row: KeyRow, plaintext: string): ProviderKeyInfo {
    const expiresAt = row.expires_at ? new Date(row.expires_at) : null;
    return {
      provider: row.provider_name,
      masked: maskSecret(plaintext),
      keyId: row.encryption_key_id,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
      expiresAt,
      expired: expiresAt !== null && expiresAt <= this.now(),
    };
  }
}

/** Seals a session's VNC password for SessionStore.setVncPassword. */
export function sealVncPassword(key: MasterKey, sessionId: string, password: string): string {
  return sealText(key, password, vncPasswordContext(sessionId));
}

/** Opens what sealVncPassword produced. */
export function openVncPassword(keys: MasterKey | Keyring, sessionId: string, sealed: string): string {
  return openText(keys, sealed, vncPasswordContext(sessionId));
}

function parseProvider(provider: string): string {
  const parsed = providerNameSchema.safeParse(provider);
  if (!parsed.success) {
    throw new NexoraError('invalid-argument', `"${provider.slice(0, 64)}" is not a provider name: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

function toSealed(row: KeyRow): Sealed {
  return {
    keyId: row.encryption_key_id,
    nonce: Buffer.from(row.nonce),
    ciphertext: Buffer.from(row.encrypted_api_key),
    tag: Buffer.from(row.auth_tag),
  };
}
