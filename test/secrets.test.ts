import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import {
  MasterKeyStore,
  ProviderKeyStore,
  holdSecretsLock,
  createRedactor,
  loadMasterKey,
  maskSecret,
  masterKeyId,
  open,
  openText,
  openVncPassword,
  seal,
  sealText,
  sealVncPassword,
  type MasterKey,
  type MasterKeyPaths,
} from '../src/secrets/index.js';
import { storeVncPassword, type PasswordSealer } from '../src/sessions/vnc-password.js';
import { SessionStore, newSessionId, type Db } from '../src/store/index.js';
import { createTestTarget, engines, type TestDatabaseTarget } from './fixtures/db-engines.js';

const execFileAsync = promisify(execFile);
const homes: string[] = [];
afterAll(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function freshPaths(): MasterKeyPaths {
  const home = mkdtempSync(join(tmpdir(), 'nexora-test-secrets-'));
  homes.push(home);
  return { secrets: join(home, 'secrets'), masterKey: join(home, 'secrets', 'master.key') };
}

function isDecryptError(error: unknown): boolean {
  return NexoraError.is(error, 'secret-decrypt-failed');
}

describe('master key file', () => {
  it('is created on first use: 32 bytes, mode 0600, in a 0700 directory', () => {
    const paths = freshPaths();
    const key = loadMasterKey(paths);
    expect(key.key).toHaveLength(32);
    expect(statSync(paths.masterKey).mode & 0o777).toBe(0o600);
    expect(statSync(paths.secrets).mode & 0o777).toBe(0o700);
    expect(readFileSync(paths.masterKey).equals(key.key)).toBe(true);
    expect(key.id).toBe(masterKeyId(key.key));
    // Loaded again, the same key.
    expect(loadMasterKey(paths).key.equals(key.key)).toBe(true);
  });

  it('is refused when group or others can read it, with the command that fixes it', () => {
    const paths = freshPaths();
    loadMasterKey(paths);
    chmodSync(paths.masterKey, 0o644);
    expect(() => loadMasterKey(paths)).toThrow(`chmod 600 ${paths.masterKey}`);
    try {
      loadMasterKey(paths);
    } catch (error) {
      expect(NexoraError.is(error, 'secret-key-insecure')).toBe(true);
      expect((error as Error).message).toContain('mode 0644');
    }
    chmodSync(paths.masterKey, 0o640);
    expect(() => loadMasterKey(paths)).toThrow(/mode 0640/);
    chmodSync(paths.masterKey, 0o600);
    expect(loadMasterKey(paths).key).toHaveLength(32);
  });

  it('is refused when damaged', () => {
    const paths = freshPaths();
    loadMasterKey(paths);
    writeFileSync(paths.masterKey, Buffer.alloc(31), { mode: 0o600 });
    expect(() => loadMasterKey(paths)).toThrow(/holds 31 bytes, not 32/);
  });

  it('is the same key for processes creating it at once', async () => {
    const paths = freshPaths();
    const script = `import('${new URL('../src/secrets/index.ts', import.meta.url).href}').then((m) => process.stdout.write(m.loadMasterKey(${JSON.stringify(paths)}).id))`;
    const ids = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
        return stdout;
      }),
    );
    expect(ids[0]).toMatch(/^mk_[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(1);
    expect(readdirSync(paths.secrets)).toEqual(['master.key']);
  });
});

describe('AES-256-GCM seal and open', () => {
  const key: MasterKey = loadMasterKey(freshPaths());
  const secret = 'sk-test-0123456789abcdefXYZW';

  it('round-trips, with a fresh 96-bit nonce every time', () => {
    const first = seal(key, secret, 'ctx');
    const second = seal(key, secret, 'ctx');
    expect(first.nonce).toHaveLength(12);
    expect(first.tag).toHaveLength(16);
    expect(first.keyId).toBe(key.id);
    expect(first.nonce.equals(second.nonce)).toBe(false);
    expect(first.ciphertext.equals(second.ciphertext)).toBe(false);
    expect(first.ciphertext.toString('utf8')).not.toContain('0123456789');
    expect(open(key, first, 'ctx')).toBe(secret);
    expect(openText(key, sealText(key, 'naïve ✓ 🔑', 'x'), 'x')).toBe('naïve ✓ 🔑');
  });

  it('fails clearly when any single byte of the ciphertext, nonce or tag is altered', () => {
    const sealed = seal(key, secret, 'ctx');
    for (const part of ['ciphertext', 'nonce', 'tag'] as const) {
      for (let index = 0; index < sealed[part].length; index++) {
        const altered = Buffer.from(sealed[part]);
        altered[index] = (altered[index] as number) ^ 0x01;
        let caught: unknown;
        try {
          open(key, { ...sealed, [part]: altered }, 'ctx');
        } catch (error) {
          caught = error;
        }
        expect(isDecryptError(caught), `${part}[${index}]`).toBe(true);
        expect((caught as Error).message).toMatch(/failed authentication.*altered/);
        expect((caught as Error).message).not.toContain(secret);
      }
    }
  });

  it('fails clearly with the wrong master key or the wrong context', () => {
    const other = loadMasterKey(freshPaths());
    const sealed = seal(key, secret);
    expect(() => open(other, sealed)).toThrow(`encrypted with master key ${key.id}, but the master key here is ${other.id}`);
    // A wrong key that claims the right id (a replaced key file) fails authentication.
    expect(() => open({ id: key.id, key: other.key }, sealed)).toThrow(/failed authentication/);
    expect(() => open(key, seal(key, secret, 'providers_auth:openai'), 'providers_auth:anthropic')).toThrow(/failed authentication/);
    expect(() => openText(key, 'v2.garbage')).toThrow(/not in the v1 sealed format/);
  });

  it('masks secrets as … and the last four characters, and redacts them from payloads', () => {
    expect(maskSecret(secret)).toBe('…XYZW');
    expect(maskSecret('short')).toBe('…');
    const redact = createRedactor([secret]);
    expect(redact({ command: `curl -H "Bearer ${secret}"`, list: [secret, 1, null], [secret]: true })).toEqual({
      command: 'curl -H "Bearer …XYZW"',
      list: ['…XYZW', 1, null],
      '…XYZW': true,
    });
  });
});

describe.each(engines)('provider keys on %s', (engine) => {
  let target: TestDatabaseTarget;
  let db: Db;
  let paths: MasterKeyPaths;
  let masterKeys: MasterKeyStore;
  let store: ProviderKeyStore;

  beforeAll(async () => {
    target = await createTestTarget(engine);
    db = await target.connect();
    paths = freshPaths();
    masterKeys = new MasterKeyStore(paths);
    store = new ProviderKeyStore({ db, masterKeys });
  });

  afterAll(async () => {
    await db?.close();
    await target?.destroy();
  });

  it('sets, gets, lists (masked), replaces and removes keys', async () => {
    const info = await store.set('openai', 'sk-openai-aaaaaaaaaaaa1111');
    expect(info).toMatchObject({ provider: 'openai', masked: '…1111', expiresAt: null, expired: false });
    await store.set('anthropic', 'sk-ant-bbbbbbbbbbbbbbb2222', { expiresAt: new Date(Date.now() + 86_400_000) });
    expect(await store.get('openai')).toBe('sk-openai-aaaaaaaaaaaa1111');
    await store.set('openai', 'sk-openai-cccccccccccc3333');
    expect(await store.get('openai')).toBe('sk-openai-cccccccccccc3333');
    const listed = await store.list();
    expect(listed.map((row) => [row.provider, row.masked])).toEqual([
      ['anthropic', '…2222'],
      ['openai', '…3333'],
    ]);
    expect(JSON.stringify(listed)).not.toContain('sk-');
    expect(await store.remove('openai')).toBe(true);
    expect(await store.remove('openai')).toBe(false);
    await expect(store.get('openai')).rejects.toSatisfy((error) => NexoraError.is(error, 'secret-not-found'));
    await store.remove('anthropic');
  });

  it('stores only ciphertext, with nonce, tag and key id on the row', async () => {
    await store.set('groq', 'gsk-plaintext-never-stored-9999');
    const rows = await db.query<Record<string, unknown>>('SELECT * FROM providers_auth WHERE provider_name = $1', ['groq']);
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, Uint8Array | string>;
    expect(Buffer.from(row.nonce as Uint8Array)).toHaveLength(12);
    expect(Buffer.from(row.auth_tag as Uint8Array)).toHaveLength(16);
    expect(row.encryption_key_id).toBe(masterKeys.load().current.id);
    const dump = await db.query<{ text: string }>('SELECT p::text AS text FROM providers_auth p');
    expect(dump.map((entry) => entry.text).join('')).not.toContain('plaintext-never-stored');
    // One flipped bit in the stored ciphertext, nonce or tag: a clear error, never garbage.
    for (const column of ['encrypted_api_key', 'nonce', 'auth_tag']) {
      await db.query(`UPDATE providers_auth SET ${column} = set_byte(${column}, 0, get_byte(${column}, 0) # 1) WHERE provider_name = 'groq'`);
      const error = await store.get('groq').catch((caught: unknown) => caught);
      expect(isDecryptError(error), column).toBe(true);
      await db.query(`UPDATE providers_auth SET ${column} = set_byte(${column}, 0, get_byte(${column}, 0) # 1) WHERE provider_name = 'groq'`);
    }
    expect(await store.get('groq')).toBe('gsk-plaintext-never-stored-9999');
    // The redactor masks stored keys wherever they turn up.
    const redact = await store.redactor();
    expect(redact({ note: 'ran with gsk-plaintext-never-stored-9999' })).toEqual({ note: 'ran with …9999' });
    // A ciphertext moved onto another provider's row does not open there.
    await store.set('mistral', 'mistral-key-000000000000');
    await db.query("UPDATE providers_auth SET (encrypted_api_key, nonce, auth_tag) = (SELECT encrypted_api_key, nonce, auth_tag FROM providers_auth WHERE provider_name = 'groq') WHERE provider_name = 'mistral'");
    await expect(store.get('mistral')).rejects.toSatisfy(isDecryptError);
    await store.remove('groq');
    await store.remove('mistral');
  });

  it('refuses expired keys, bad provider names and malformed keys without echoing them', async () => {
    await store.set('xai', 'xai-key-expired-000000000', { expiresAt: new Date(Date.now() - 1000) });
    await expect(store.get('xai')).rejects.toSatisfy((error) => NexoraError.is(error, 'secret-expired'));
    expect((await store.list()).find((row) => row.provider === 'xai')?.expired).toBe(true);
    await expect(store.set('Open AI', 'whatever-key-1234567')).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
    const error = await store.set('openai', 'sk-has\nnewline-secret-777').catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/line break/);
    expect((error as Error).message).not.toContain('newline-secret-777');
    await store.remove('xai');
  });

  it('fails with a clear error when the master key file was replaced by another key', async () => {
    await store.set('deepseek', 'ds-key-1111111111111111');
    const original = readFileSync(paths.masterKey);
    const other = loadMasterKey(freshPaths());
    writeFileSync(paths.masterKey, other.key, { mode: 0o600 });
    try {
      const error = await store.get('deepseek').catch((caught: unknown) => caught);
      expect(isDecryptError(error)).toBe(true);
      expect((error as Error).message).toContain(`encrypted with master key ${masterKeyId(original)}, but the master key here is ${other.id}`);
      // Listing still works and says which key cannot be decrypted.
      const listed = (await store.list()).find((row) => row.provider === 'deepseek');
      expect(listed).toMatchObject({ masked: '(cannot decrypt)', problem: expect.stringContaining(masterKeyId(original)) as unknown });
      rmSync(paths.masterKey);
      const missing = await store.get('deepseek').catch((caught: unknown) => caught);
      expect(NexoraError.is(missing, 'secret-not-found')).toBe(true);
      expect((missing as Error).message).toMatch(/no master key at .*restore it from a backup/);
      expect(existsSync(paths.masterKey)).toBe(false);
    } finally {
      writeFileSync(paths.masterKey, original, { mode: 0o600 });
    }
    expect(await store.get('deepseek')).toBe('ds-key-1111111111111111');
    await store.remove('deepseek');
  });

  it('rotates: every key and live VNC password opens with the new master key only, and the old file is gone', async () => {
    const secrets = { openai: 'sk-rotate-openai-000000000001', anthropic: 'sk-rotate-anthropic-00000002', google: 'AIza-rotate-google-000000003' };
    for (const [provider, secret] of Object.entries(secrets)) await store.set(provider, secret);
    const sessions = new SessionStore(db);
    const sessionId = newSessionId();
    await sessions.create({ id: sessionId, userId: 'u', model: 'm', provider: 'p' });
    const before = masterKeys.load().current;
    await sessions.setVncPassword(sessionId, sealVncPassword(before, sessionId, 'vncpass1'));

    const result = await store.rotate();
    expect(result).toMatchObject({ previousKeyId: before.id, providerKeys: 3, vncPasswords: 1 });
    const after = loadMasterKey(paths);
    expect(after.id).toBe(result.keyId);
    expect(after.id).not.toBe(before.id);
    expect(readdirSync(paths.secrets)).toEqual(['master.key']);
    expect(statSync(paths.masterKey).mode & 0o777).toBe(0o600);
    const rows = await db.query<{ provider_name: string; encrypted_api_key: Uint8Array; nonce: Uint8Array; auth_tag: Uint8Array; encryption_key_id: string }>(
      'SELECT provider_name, encrypted_api_key, nonce, auth_tag, encryption_key_id FROM providers_auth',
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const sealed = { keyId: row.encryption_key_id, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.encrypted_api_key), tag: Buffer.from(row.auth_tag) };
      // The new key alone opens it; the old one does not.
      expect(open(after, sealed, `providers_auth:${row.provider_name}`)).toBe(secrets[row.provider_name as keyof typeof secrets]);
      expect(() => open(before, sealed, `providers_auth:${row.provider_name}`)).toThrow();
    }
    expect(openVncPassword(after, sessionId, (await sessions.getVncPassword(sessionId)) as string)).toBe('vncpass1');
    for (const provider of Object.keys(secrets)) await store.remove(provider);
  });

  it('keeps every key readable when keys are set while rotations run, from separate connections', async () => {
    // On the server a second pool stands in for a second process; PGlite has one connection.
    const second = engine === 'postgres' ? await target.connect() : db;
    try {
      const other = new ProviderKeyStore({ db: second, masterKeys: new MasterKeyStore(paths) });
      const names = Array.from({ length: 12 }, (_, index) => `concurrent-${index}`);
      const results = await Promise.all([
        ...names.map((name, index) => (index % 2 === 0 ? store : other).set(name, `key-${name}-0000000000000`)),
        store.rotate(),
        other.rotate(),
        store.rotate(),
      ]);
      expect(results.filter((result) => 'keyId' in result && 'providerKeys' in result)).toHaveLength(3);
      for (const name of names) expect(await other.get(name)).toBe(`key-${name}-0000000000000`);
      const current = masterKeys.load().current.id;
      const ids = await db.query<{ encryption_key_id: string }>('SELECT DISTINCT encryption_key_id FROM providers_auth');
      expect(ids.map((row) => row.encryption_key_id)).toEqual([current]);
      expect(readdirSync(paths.secrets)).toEqual(['master.key']);
      for (const name of names) await store.remove(name);
    } finally {
      if (second !== db) await second.close();
    }
  });

  it('keeps the old key working when rotation fails before the commit', async () => {
    await store.set('openai', 'sk-failed-rotation-0000000042');
    const before = readFileSync(paths.masterKey);
    await expect(
      store.rotate({
        beforeCommit: () => {
          throw new Error('simulated failure before commit');
        },
      }),
    ).rejects.toThrow('simulated failure before commit');
    expect(readFileSync(paths.masterKey).equals(before)).toBe(true);
    expect(readdirSync(paths.secrets)).toEqual(['master.key']);
    expect(await store.get('openai')).toBe('sk-failed-rotation-0000000042');
    await store.remove('openai');
  });

  // Two connections are two processes (a session start in one, `keys rotate` in another); PGlite
  // has a single connection in a single process, where the two cannot interleave.
  it.runIf(engine === 'postgres')('stores a VNC password sealed while `keys rotate` runs so that the session stays resumable', async () => {
    const second = await target.connect();
    try {
      const sessions = new SessionStore(second);
      const sessionId = newSessionId();
      await sessions.create({ id: sessionId, userId: 'u', model: 'm', provider: 'p' });
      let rotationHolds = (): void => undefined;
      const holding = new Promise<void>((resolve) => (rotationHolds = resolve));
      // Did the other connection block on the secrets lock? Seen in pg_locks, not guessed from time.
      const waitingOnLock = async (): Promise<void> => {
        for (;;) {
          const rows = await db.query<{ waiting: number }>("SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
          if ((rows[0]?.waiting ?? 0) > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      // The start reads the key first, then lets the rotation run as far as it can before writing:
      // without the lock, the row would be written under the key the rotation retires.
      let keyRead = (): void => undefined;
      const readingDone = new Promise<void>((resolve) => (keyRead = resolve));
      const sealer: PasswordSealer = {
        seal: async (plaintext, context) => {
          const sealed = sealText(new MasterKeyStore(paths).load().current, plaintext, context);
          keyRead();
          await Promise.race([holding, waitingOnLock()]);
          return sealed;
        },
        open: (sealed, context) => openText(new MasterKeyStore(paths).load({ create: false }), sealed, context),
        lock: (tx) => holdSecretsLock(tx),
      };
      const storing = storeVncPassword({ db: second, sessions, sealer, sessionId, password: 'racepass' });
      await readingDone;
      const rotation = store.rotate({
        beforeCommit: async () => {
          rotationHolds();
          await Promise.race([storing, waitingOnLock()]);
        },
      });
      await Promise.all([storing, rotation]);
      const stored = await sessions.getVncPassword(sessionId);
      expect(openVncPassword(loadMasterKey(paths), sessionId, stored as string)).toBe('racepass');
    } finally {
      await second.close();
    }
  });

  it('keeps the old key working when the process is killed before the commit, and a later rotation finishes cleanly', async () => {
    await store.set('anthropic', 'sk-crash-rotation-00000000077');
    const oldKey = masterKeys.load().current;
    // The child needs the database to itself (PGlite has one owner).
    await db.close();
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/db-rotate-child.ts', JSON.stringify({ open: target.open, ...paths })], { encoding: 'utf8', timeout: 120_000 });
      expect(run.stdout).toContain('before-commit');
      expect(run.stdout).not.toContain('committed');
      expect(run.signal).toBe('SIGKILL');
    } finally {
      db = await target.connect();
      store = new ProviderKeyStore({ db, masterKeys });
    }
    // The rows are still under the old key, and the old key is still on disk.
    const row = (await db.query<{ encryption_key_id: string }>("SELECT encryption_key_id FROM providers_auth WHERE provider_name = 'anthropic'"))[0];
    expect(row?.encryption_key_id).toBe(oldKey.id);
    expect(existsSync(`${paths.masterKey}.replaced-${oldKey.id}`)).toBe(true);
    expect(await store.get('anthropic')).toBe('sk-crash-rotation-00000000077');
    // A new key written meanwhile uses the (new) current key and opens too.
    await store.set('openai', 'sk-after-crash-000000000088');
    expect(await store.get('openai')).toBe('sk-after-crash-000000000088');

    const result = await store.rotate();
    expect(result.providerKeys).toBe(2);
    expect(readdirSync(paths.secrets)).toEqual(['master.key']);
    expect(await store.get('anthropic')).toBe('sk-crash-rotation-00000000077');
    expect(await store.get('openai')).toBe('sk-after-crash-000000000088');
  });
});
