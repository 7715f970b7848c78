import { basename, dirname, join, resolve } from 'node:path';
import { NexoraError } from '../errors.js';
import { readFileUnder, refusalReason } from '../safe-file/index.js';
import { maskValue } from './mask-config.js';
import { maxConfigBytes, readWorkspaceConfig, trustKey, workspaceConfigName } from './load-config.js';
import { restrictedFieldsIn } from './restricted-fields.js';
import { addTrust, readTrustStore, revokeTrust, sha256Hex, type TrustEntry } from './trust-store.js';

/** What `nexora trust` reports about the file it trusted. */
export interface TrustedWorkspace {
  entry: TrustEntry;
  /** The restricted fields the file sets, with their values (credentials masked). */
  fields: { field: string; value: string }[];
}

/**
 * Trusts a workspace's nexora.json as it is now: read once through safe-file (a link is
 * refused), validated (a broken file is not trusted), and the hash pinned is of exactly the
 * bytes validated.
 */
export async function trustWorkspace(options: { workspace: string; storePath: string }): Promise<TrustedWorkspace> {
  const loaded = await readWorkspaceConfig(options.workspace);
  if (!loaded) throw missing(join(resolve(options.workspace), workspaceConfigName));
  const entry = await addTrust({ storePath: options.storePath, file: await trustKey(options.workspace), content: loaded.bytes });
  const fields = restrictedFieldsIn(loaded.config).map((field) => ({ field, value: describeValue(field, valueAt(loaded.config, field)) }));
  return { entry, fields };
}

/** Removes the trust in a workspace's nexora.json; false when it was not trusted. */
export async function revokeWorkspace(options: { workspace: string; storePath: string }): Promise<{ file: string; removed: boolean }> {
  // A deleted file (or workspace) can still be revoked by the path it had.
  const file = await trustKey(options.workspace);
  return { file, removed: await revokeTrust({ storePath: options.storePath, file }) };
}

/** Every trusted file and whether its content still matches (a file that became a link or a FIFO has changed). */
export async function listTrusted(storePath: string): Promise<(TrustEntry & { state: 'trusted' | 'changed' | 'missing' })[]> {
  const entries = await readTrustStore(storePath);
  return Promise.all(
    entries.map(async (entry) => {
      const read = await readFileUnder({ root: dirname(entry.file), path: basename(entry.file), maxBytes: maxConfigBytes }).catch((error: unknown) => {
        if (refusalReason(error) !== undefined) return 'refused' as const;
        if (NexoraError.is(error, 'filesystem-failed')) return undefined;
        throw error;
      });
      const state = read === undefined ? 'missing' : read !== 'refused' && sha256Hex(read.bytes) === entry.sha256 ? 'trusted' : 'changed';
      return { ...entry, state } as const;
    }),
  );
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
