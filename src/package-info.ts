import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from './paths.js';

const manifestSchema = z.object({ name: z.string(), version: z.string().min(1) });

let cached: z.infer<typeof manifestSchema> | undefined;

/** The installed package's name and version, from its package.json (the one place they are written). */
export function packageManifest(): z.infer<typeof manifestSchema> {
  cached ??= manifestSchema.parse(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')));
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
