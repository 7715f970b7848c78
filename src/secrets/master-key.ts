import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NexoraError } from '../errors.js';

/** A 32-byte AES-256 key and the id stored beside everything sealed with it. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * The master keys on disk: the current one, and keys a rotation has replaced but not yet
 * retired (its commit is pending, or the process died before it).
 */
export interface Keyring {
  readonly current: MasterKey;
  readonly replaced: readonly MasterKey[];
  /** The key with this id, if it is on disk. */
  byId(id: string): MasterKey | undefined;
}

/** A rotation in progress: the new key is already `master.key`, the old one kept beside it. */
export interface Rotation {
  readonly next: MasterKey;
  readonly previous: MasterKey;
  /** After the commit: deletes the replaced key files; the new key alone remains. */
  finish(): void;
  /** Before the commit (still holding the lock): puts the old key back as `master.key`. */
  abort(): void;
}

export interface MasterKeyPaths {
  /** The secrets directory (mode 0700). */
  secrets: string;
  /** The master key file (mode 0600). */
  masterKey: string;
}

const keyLength = 32;

/** The key's id: a short hash of it, safe to store in the clear (the key has 256 random bits). */
export function masterKeyId(key: Buffer): string {
  return `mk_${createHash('sha256').update('nexora-master-key-id\0').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * The master key file at `<home>/secrets/master.key`: created on first use with mode 0600 in a
 * 0700 directory, refused when group or others can read it.
 *
 * Rotation swaps the new key in as `master.key` before the database commit and keeps the old
 * one as `master.key.replaced-<id>` until after it, so whatever happens in between (a failed
 * transaction, a crash) there is a key on disk for every row.
 */
export class MasterKeyStore {
  readonly path: string;

  constructor(private readonly paths: MasterKeyPaths) {
    this.path = paths.masterKey;
  }

  /** Reads the keys, creating the master key when there is none yet. */
  load(options: { create?: boolean } = {}): Keyring {
    let current = this.read(this.path);
    if (!current) {
      if (options.create === false) {
        throw new NexoraError(
          'secret-not-found',
          `There is no master key at ${this.path}. If secrets were stored with it, the file was removed: restore it from a backup, or remove those secrets (\`nexora keys rm <provider>\`) and store them again.`,
        );
      }
      current = this.create(this.path);
    }
    const replaced = this.replacedFiles().flatMap((file) => {
      const key = this.read(file);
      return key && key.id !== current.id ? [key] : [];
    });
    const keys = [current, ...replaced];
    return { current, replaced, byId: (id) => keys.find((key) => key.id === id) };
  }

  /**
   * Starts a rotation: a new key becomes `master.key`, the current one is kept as
   * `master.key.replaced-<id>`. Call `finish` after the re-encryption commits, `abort` if it
   * fails before.
   */
  beginRotation(): Rotation {
    const { current: previous, replaced } = this.load();
    const keptPath = this.replacedPath(previous.id);
    try {
      linkSync(this.path, keptPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const next = this.create(this.path, { replace: true });
    const retire = [keptPath, ...replaced.map((key) => this.replacedPath(key.id))];
    return {
      next,
      previous,
      finish: () => {
        for (const file of retire) removeFile(file);
        syncDirectory(dirname(this.path));
      },
      abort: () => {
        renameSync(keptPath, this.path);
        syncDirectory(dirname(this.path));
      },
    };
  }

  private replacedPath(id: string): string {
    return `${this.path}.replaced-${id}`;
  }

  private replacedFiles(): string[] {
    const prefix = `${basename(this.path)}.replaced-`;
    let names: string[];
    try {
      names = readdirSync(dirname(this.path));
    } catch {
      return [];
    }
    return names.filter((name) => name.startsWith(prefix)).map((name) => join(dirname(this.path), name));
  }

  private read(path: string): MasterKey | undefined {
    let stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (!stats.isFile()) {
      throw new NexoraError('secret-key-insecure', `The master key ${path} is not a regular file (a link or a directory). Replace it with the key file itself, mode 0600.`);
    }
    const mode = stats.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new NexoraError(
        'secret-key-insecure',
        `The master key ${path} has mode ${mode.toString(8).padStart(4, '0')}, so other users can read it (or write it): Nexora refuses to use it. Fix it with \`chmod 600 ${path}\`; if others may have read it, run \`nexora keys rotate\` afterwards.`,
      );
    }
    if (process.getuid && stats.uid !== process.getuid()) {
      throw new NexoraError('secret-key-insecure', `The master key ${path} belongs to another user (uid ${stats.uid}). Give it to yourself with \`chown $(id -u) ${path}\`, or use your own NEXORA_HOME.`);
    }
    const key = readFileSync(path);
    if (key.length !== keyLength) {
      throw new NexoraError(
        'secret-decrypt-failed',
        `The master key ${path} holds ${key.length} bytes, not ${keyLength}: it is damaged. Restore it from a backup; without it the stored provider keys cannot be decrypted (then remove it and set the keys again).`,
      );
    }
    return { id: masterKeyId(key), key };
  }

  /**
   * Creates a key file atomically: a complete file appears under `path` or nothing does. With
   * `replace` it takes the place of an existing file; without, an existing key wins.
   */
  private create(path: string, options: { replace?: boolean } = {}): MasterKey {
    mkdirSync(this.paths.secrets, { recursive: true, mode: 0o700 });
    chmodSync(this.paths.secrets, 0o700);
    const key = randomBytes(keyLength);
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, key);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.replace) {
      renameSync(temporary, path);
      syncDirectory(dirname(path));
      return { id: masterKeyId(key), key };
    }
    try {
      // link() fails if the name exists, so of two processes creating at once one wins and the
      // other reads the winner's key.
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const existing = this.read(path);
      if (existing) return existing;
      throw error;
    } finally {
      unlinkSync(temporary);
    }
    syncDirectory(dirname(path));
    return { id: masterKeyId(key), key };
  }
}

/** The current master key at `paths.masterKey`, created on first use. */
export function loadMasterKey(paths: MasterKeyPaths): MasterKey {
  return new MasterKeyStore(paths).load().current;
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
