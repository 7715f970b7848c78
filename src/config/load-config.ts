import { readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { configFileSchema, withDefaults, type ConfigFile, type EffectiveConfig } from './config-schema.js';
import { restrictedFieldsIn } from './restricted-fields.js';
import { readTrustStore, sha256Hex, trustStorePath } from './trust-store.js';

/** The workspace's config file name. */
export const workspaceConfigName = 'nexora.json';

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
  const user = await readConfigText(userPath);
  let merged: Record<string, unknown> = {};
  if (user) {
    sources.push(userPath);
    merged = { ...user.config };
  }
  let workspaceFile: LoadedConfig['workspaceFile'];
  if (options.workspace !== undefined) {
    const file = join(resolve(options.workspace), workspaceConfigName);
    const workspace = await readConfigText(file);
    if (workspace) {
      const sha256 = sha256Hex(workspace.text);
      const trusted = await isTrusted({ file, sha256, storePath: options.trustStorePath ?? trustStorePath(options.env) });
      workspaceFile = { file, sha256, trusted: trusted.trusted };
      const restricted = restrictedFieldsIn(workspace.config);
      if (restricted.length > 0 && !trusted.trusted) throw untrustedFields({ file, workspace: resolve(options.workspace), fields: restricted, userPath, changedSince: trusted.changedSince });
      sources.push(file);
      const over = trusted.trusted ? workspace.config : onlyLowering(workspace.config, withDefaults(user?.config ?? {}));
      merged = deepMerge(merged, over);
    }
  }
  // Each file was valid alone; the merge of valid files is valid too, but check anyway.
  return { config: withDefaults(validate(merged, 'the merged configuration')), sources, ...(workspaceFile ? { workspaceFile } : {}) };
}

/** Parses one config file; undefined when it does not exist. */
export async function readConfigFile(file: string): Promise<ConfigFile | undefined> {
  return (await readConfigText(file))?.config;
}

async function readConfigText(file: string): Promise<{ text: string; config: ConfigFile } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NexoraError('invalid-config', `Cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NexoraError('invalid-config', `${file} is not valid JSON: ${(error as Error).message}. Fix the syntax or delete the file.`, { cause: error });
  }
  return { text, config: validate(json, file) };
}

async function isTrusted(options: { file: string; sha256: string; storePath: string }): Promise<{ trusted: boolean; changedSince?: string }> {
  const real = await realpath(options.file);
  const entry = (await readTrustStore(options.storePath)).find((candidate) => candidate.file === real);
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
