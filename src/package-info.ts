import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

export interface PackageManifest {
  name: string;
  version: string;
}

let cached: PackageManifest | undefined;

/**
 * The installed package's name and version, from its package.json (the one place they are written).
 * Checked by hand, not with zod: `--help` and every client command read it, and loading zod
 * costs more than the rest of their start-up.
 */
export function packageManifest(): PackageManifest {
  if (cached) return cached;
  const file = join(packageRoot(), 'package.json');
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const { name, version } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof name !== 'string' || typeof version !== 'string' || version === '') {
    throw new Error(`${file} has no name or version: reinstall Nexora`);
  }
  cached = { name, version };
  return cached;
}

export function packageVersion(): string {
  return packageManifest().version;
}

/**
 * The set-up script's command line in a source checkout, or undefined in an installed package
 * (scripts/ is not shipped): messages name it only where it exists.
 */
export function setupScriptCommand(): string | undefined {
  return existsSync(join(packageRoot(), 'scripts', 'setup.sh')) ? `bash ${join(packageRoot(), 'scripts', 'setup.sh')}` : undefined;
}
