import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';

/**
 * The workspace config files the user has reviewed and trusted (`nexora trust`), each pinned
 * to the SHA-256 of its exact content: a file that changes afterwards is untrusted again, so
 * an agent (or a `git pull`) that rewrites nexora.json cannot ride on an earlier yes.
 * The store lives in the Nexora home, mode 0600.
 */
export interface TrustEntry {
  /** The config file's real path (symlinks resolved). */
  file: string;
  sha256: string;
  trustedAt: string;
}

const storeSchema = z.strictObject({
  version: z.literal(1),
  entries: z.array(z.strictObject({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), trustedAt: z.string() })),
});

/** Where the trust store is for a Nexora home. */
export function trustStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(nexoraPaths(env).home, 'trusted-workspaces.json');
}

export function sha256Hex(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Every trusted file; an absent store is an empty one. */
export async function readTrustStore(storePath: string): Promise<TrustEntry[]> {
  let text: string;
  try {
    text = await readFile(storePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new NexoraError('invalid-config', `Cannot read the trust store ${storePath}: ${(error as Error).message}`, { cause: error });
  }
  // Another user who can write the store could trust files on our behalf.
  const mode = (await stat(storePath)).mode;
  if ((mode & 0o022) !== 0) {
    throw new NexoraError('untrusted-config', `The trust store ${storePath} is writable by other users (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${storePath}\`, then check its entries with \`nexora trust --list\`.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NexoraError('invalid-config', `The trust store ${storePath} is not valid JSON: delete it and trust your workspaces again.`, { cause: error });
  }
  const parsed = storeSchema.safeParse(json);
  if (!parsed.success) throw new NexoraError('invalid-config', `The trust store ${storePath} is damaged: delete it and trust your workspaces again.`);
  return parsed.data.entries;
}

async function writeTrustStore(storePath: string, entries: TrustEntry[]): Promise<void> {
  await mkdir(dirname(storePath), { recursive: true, mode: 0o700 });
  const temporary = `${storePath}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, storePath);
}

/** Trusts `file` with exactly `content` (replacing an earlier entry for the same file). */
export async function addTrust(options: { storePath: string; file: string; content: string | Buffer }): Promise<TrustEntry> {
  const entry: TrustEntry = { file: options.file, sha256: sha256Hex(options.content), trustedAt: new Date().toISOString() };
  const entries = (await readTrustStore(options.storePath)).filter((existing) => existing.file !== options.file);
  await writeTrustStore(options.storePath, [...entries, entry]);
  return entry;
}

/** Removes the entry for `file`; false when there was none. */
export async function revokeTrust(options: { storePath: string; file: string }): Promise<boolean> {
  const entries = await readTrustStore(options.storePath);
  const kept = entries.filter((existing) => existing.file !== options.file);
  if (kept.length === entries.length) return false;
  await writeTrustStore(options.storePath, kept);
  return true;
}
