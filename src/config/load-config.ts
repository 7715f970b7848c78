import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { readFileUnder, readRegularFile } from '../safe-file/index.js';
import { configFileSchema, withDefaults, type ConfigFile, type EffectiveConfig } from './config-schema.js';
import { restrictedFieldsIn } from './restricted-fields.js';
import { readTrustStore, sha256Hex, trustStorePath } from './trust-store.js';

/** The workspace's config file name. */
export const workspaceConfigName = 'nexora.json';
/** A config file is a few KiB; this bounds what a hostile one can make the host read. */
export const maxConfigBytes = 1024 * 1024;

export interface LoadedConfig {
  config: EffectiveConfig;
  /** The files that were read, lowest precedence first. */
  sources: string[];
  /** The workspace's nexora.json, when there is one, and whether the user trusted its content. */
  workspaceFile?: { file: string; sha256: string; trusted: boolean };
}

export interface LoadConfigOptions {
  workspace?: string;
  env?: NodeJS.ProcessEnv;
  userConfigPath?: string;
  /** The trust store (default: trusted-workspaces.json in the Nexora home). */
  trustStorePath?: string;
}

/**
 * Reads the user config file (~/.nexora/config.json) and the workspace's nexora.json, each
 * validated on its own so an error names its file, and merges them (the workspace wins;
 * objects merge key by key, arrays are replaced).
 *
 * The workspace file is untrusted input: unless the user trusted its exact content, it may not
 * set the fields listed in restricted-fields.ts (an error names them and says how to trust the
 * file), and its step and cost limits can only lower the user's.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const userPath = options.userConfigPath ?? nexoraPaths(options.env).config;
  const sources: string[] = [];
  const user = await readConfigFile(userPath);
  let merged: Record<string, unknown> = {};
  if (user) {
    sources.push(userPath);
    merged = { ...user };
  }
  let workspaceFile: LoadedConfig['workspaceFile'];
  if (options.workspace !== undefined) {
    const workspace = await readWorkspaceConfig(options.workspace);
    if (workspace) {
      const { file } = workspace;
      const sha256 = sha256Hex(workspace.bytes);
      const trusted = await isTrusted({ file: await trustKey(options.workspace), sha256, storePath: options.trustStorePath ?? trustStorePath(options.env) });
      workspaceFile = { file, sha256, trusted: trusted.trusted };
      const restricted = restrictedFieldsIn(workspace.config);
      if (restricted.length > 0 && !trusted.trusted) throw untrustedFields({ file, workspace: resolve(options.workspace), fields: restricted, userPath, changedSince: trusted.changedSince });
      sources.push(file);
      const over = trusted.trusted ? workspace.config : onlyLowering(workspace.config, withDefaults(user ?? {}));
      merged = deepMerge(merged, over);
    }
  }
  // Each file was valid alone; the merge of valid files is valid too, but check anyway.
  return { config: withDefaults(validate(merged, 'the merged configuration')), sources, ...(workspaceFile ? { workspaceFile } : {}) };
}

/** Parses one of the user's config files (links followed: the path is theirs); undefined when it does not exist. */
export async function readConfigFile(file: string): Promise<ConfigFile | undefined> {
  const read = await readRegularFile({ path: file, maxBytes: maxConfigBytes }).catch((error: unknown) => {
    throw NexoraError.is(error) ? new NexoraError('invalid-config', `Cannot read ${file}: ${error.message}`, { cause: error }) : error;
  });
  return read ? parseConfig(read.bytes, file) : undefined;
}

/**
 * The workspace's nexora.json, read through safe-file (untrusted: a link is refused, never
 * followed, so neither its content nor an error about it can carry another file's bytes), with
 * the exact bytes that were validated, for hashing. Undefined when there is none.
 */
export async function readWorkspaceConfig(workspace: string): Promise<{ file: string; bytes: Buffer; config: ConfigFile } | undefined> {
  const file = join(resolve(workspace), workspaceConfigName);
  const read = await readFileUnder({ root: resolve(workspace), path: workspaceConfigName, maxBytes: maxConfigBytes });
  return read ? { file, bytes: read.bytes, config: parseConfig(read.bytes, file) } : undefined;
}

/** The path trust is pinned to: the workspace's real path and the config's name (the file itself is never a link). */
export async function trustKey(workspace: string): Promise<string> {
  const absolute = resolve(workspace);
  return join(await realpath(absolute).catch(() => absolute), workspaceConfigName);
}

/** Validates a config file's bytes; a syntax error says where, never what the bytes are. */
function parseConfig(bytes: Buffer, file: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    const where = position === undefined ? '' : ` (${lineAndColumn(bytes.toString('utf8'), Number(position))})`;
    // No cause: the parser's own message quotes the bytes around the mistake.
    throw new NexoraError('invalid-config', `${file} is not valid JSON${where}. Fix the syntax or delete the file.`);
  }
  return validate(json, file);
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

async function isTrusted(options: { file: string; sha256: string; storePath: string }): Promise<{ trusted: boolean; changedSince?: string }> {
  const entry = (await readTrustStore(options.storePath)).find((candidate) => candidate.file === options.file);
  if (!entry) return { trusted: false };
  return entry.sha256 === options.sha256 ? { trusted: true } : { trusted: false, changedSince: entry.trustedAt };
}

function untrustedFields(options: { file: string; workspace: string; fields: string[]; userPath: string; changedSince: string | undefined }): NexoraError {
  const { file, workspace, fields, userPath, changedSince } = options;
  const changed = changedSince ? ` You trusted this file on ${changedSince}, but it has changed since.` : '';
  return new NexoraError(
    'untrusted-config',
    `${file} sets ${fields.map((field) => `"${field}"`).join(', ')}, which a workspace file may set only if you trust it: these fields choose where your API keys are sent, which credentials are used, what a run may spend or which commands need your approval, and a repository (or the agent itself) can write nexora.json.${changed} ` +
      `Move them to your own config (${userPath}), or read the file and, if it is yours, run \`nexora trust --workspace ${workspace}\` (trust is pinned to the file's exact content; any change needs a new \`nexora trust\`).`,
  );
}

/** An untrusted workspace's step and cost limits count only when they are stricter than the user's. */
function onlyLowering(workspace: ConfigFile, user: EffectiveConfig): ConfigFile {
  const agent = workspace.agent;
  if (!agent) return workspace;
  const maxSteps = agent.maxSteps !== undefined ? Math.min(agent.maxSteps, user.agent.maxSteps) : undefined;
  const maxCostUsd = agent.maxCostUsd !== undefined ? Math.min(agent.maxCostUsd, user.agent.maxCostUsd ?? Number.POSITIVE_INFINITY) : undefined;
  return { ...workspace, agent: { ...agent, ...(maxSteps !== undefined ? { maxSteps } : {}), ...(maxCostUsd !== undefined ? { maxCostUsd } : {}) } };
}

function validate(json: unknown, file: string): ConfigFile {
  const result = configFileSchema.safeParse(json);
  if (result.success) return result.data;
  throw new NexoraError('invalid-config', describeIssues(result.error, file));
}

function describeIssues(error: z.ZodError, file: string): string {
  const lines = error.issues.slice(0, 5).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      return `unknown field ${issue.keys.map((key) => `"${where}${key}"`).join(', ')}`;
    }
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `field "${field}": ${issue.message}`;
  });
  return `Invalid configuration in ${file}: ${lines.join('; ')}. See \`nexora config show\` for the effective configuration.`;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = result[key];
    result[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
