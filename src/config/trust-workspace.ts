import { readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NexoraError } from '../errors.js';
import { maskValue } from './mask-config.js';
import { workspaceConfigName, readConfigFile } from './load-config.js';
import { restrictedFieldsIn } from './restricted-fields.js';
import { addTrust, readTrustStore, revokeTrust, sha256Hex, type TrustEntry } from './trust-store.js';

/** What `nexora trust` reports about the file it trusted. */
export interface TrustedWorkspace {
  entry: TrustEntry;
  /** The restricted fields the file sets, with their values (credentials masked). */
  fields: { field: string; value: string }[];
}

/**
 * Trusts a workspace's nexora.json as it is now: it is validated first (a broken file is not
 * trusted), and the hash pinned is of exactly the bytes validated.
 */
export async function trustWorkspace(options: { workspace: string; storePath: string }): Promise<TrustedWorkspace> {
  const file = await configFileOf(options.workspace);
  const content = await readFile(file);
  const config = await readConfigFile(file);
  if (config === undefined) throw missing(file);
  // The file read for validation must be the file hashed: refuse if it changed in between.
  if (sha256Hex(await readFile(file)) !== sha256Hex(content)) {
    throw new NexoraError('untrusted-config', `${file} changed while it was being read: run \`nexora trust\` again.`);
  }
  const entry = await addTrust({ storePath: options.storePath, file, content });
  const fields = restrictedFieldsIn(config).map((field) => ({ field, value: describeValue(field, valueAt(config, field)) }));
  return { entry, fields };
}

/** Removes the trust in a workspace's nexora.json; false when it was not trusted. */
export async function revokeWorkspace(options: { workspace: string; storePath: string }): Promise<{ file: string; removed: boolean }> {
  const workspace = resolve(options.workspace);
  // A deleted file can still be revoked by the path it had.
  const file = await realpath(join(workspace, workspaceConfigName)).catch(() => join(workspace, workspaceConfigName));
  return { file, removed: await revokeTrust({ storePath: options.storePath, file }) };
}

/** Every trusted file and whether its content still matches. */
export async function listTrusted(storePath: string): Promise<(TrustEntry & { state: 'trusted' | 'changed' | 'missing' })[]> {
  const entries = await readTrustStore(storePath);
  return Promise.all(
    entries.map(async (entry) => {
      const content = await readFile(entry.file).catch(() => undefined);
      const state = content === undefined ? 'missing' : sha256Hex(content) === entry.sha256 ? 'trusted' : 'changed';
      return { ...entry, state } as const;
    }),
  );
}

async function configFileOf(workspace: string): Promise<string> {
  const file = join(resolve(workspace), workspaceConfigName);
  try {
    return await realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missing(file);
    throw error;
  }
}

function missing(file: string): NexoraError {
  return new NexoraError('invalid-argument', `There is no ${file} to trust: pass the project directory with --workspace DIR.`);
}

function valueAt(config: unknown, dotted: string): unknown {
  // Model refs contain dots ("openai/gpt-4.1"), so walk known prefixes rather than split blindly.
  const [section, ...rest] = dotted.split('.');
  const object = (config as Record<string, unknown>)[section ?? ''];
  if (section === 'providers' || section === 'models') {
    const field = rest.at(-1) ?? '';
    const name = rest.slice(0, -1).join('.');
    return ((object as Record<string, Record<string, unknown>> | undefined)?.[name] ?? {})[field];
  }
  return (object as Record<string, unknown> | undefined)?.[rest.join('.')];
}

function describeValue(field: string, value: unknown): string {
  if (field.endsWith('.apiKey') && typeof value === 'string') return maskValue(value);
  if (field.endsWith('.headers') && typeof value === 'object' && value !== null) {
    return Object.entries(value as Record<string, string>)
      .map(([name, text]) => `${name}: ${maskValue(text)}`)
      .join(', ');
  }
  return JSON.stringify(value);
}
