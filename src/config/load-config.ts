import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { configFileSchema, withDefaults, type ConfigFile, type EffectiveConfig } from './config-schema.js';

/** The workspace's config file name. */
export const workspaceConfigName = 'nexora.json';

export interface LoadedConfig {
  config: EffectiveConfig;
  /** The files that were read, lowest precedence first. */
  sources: string[];
}

/**
 * Reads the user config file (~/.nexora/config.json) and the workspace's nexora.json, each
 * validated on its own so an error names its file, and merges them (the workspace wins;
 * objects merge key by key, arrays are replaced).
 */
export async function loadConfig(options: { workspace?: string; env?: NodeJS.ProcessEnv; userConfigPath?: string } = {}): Promise<LoadedConfig> {
  const userPath = options.userConfigPath ?? nexoraPaths(options.env).config;
  const files = [userPath];
  if (options.workspace !== undefined) files.push(join(resolve(options.workspace), workspaceConfigName));
  let merged: Record<string, unknown> = {};
  const sources: string[] = [];
  for (const file of files) {
    const parsed = await readConfigFile(file);
    if (parsed === undefined) continue;
    sources.push(file);
    merged = deepMerge(merged, parsed);
  }
  // Each file was valid alone; the merge of valid files is valid too, but check anyway.
  return { config: withDefaults(validate(merged, 'the merged configuration')), sources };
}

/** Parses one config file; undefined when it does not exist. */
export async function readConfigFile(file: string): Promise<ConfigFile | undefined> {
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
  return validate(json, file);
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
