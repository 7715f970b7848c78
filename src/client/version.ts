import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package version (kept equal to package.json's by a unit test). */
export const NEXORA_VERSION = '0.1.0';

/**
 * Which build this process runs: the version and when this file was compiled. A client and a
 * server from different builds (say, after `npm run build`) do not assume they agree.
 */
export function buildId(): string {
  const mtime = statSync(fileURLToPath(import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return `${NEXORA_VERSION}+${Math.round(mtime).toString(36)}`;
}
