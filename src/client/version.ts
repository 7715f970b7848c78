import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package version (kept equal to package.json's by a unit test). */
export const NEXORA_VERSION = '0.1.0';

let cached: string | undefined;

/**
 * Which build this process runs: what `npm run build` wrote in dist/build-id.txt (the version
 * and a hash of everything built, so every install of one tarball is one build). Run from the
 * sources (no build), the version and when this file last changed. A client and a server of
 * different builds do not assume they agree.
 */
export function buildId(): string {
  if (cached !== undefined) return cached;
  try {
    const written = readFileSync(new URL('../build-id.txt', import.meta.url), 'utf8').trim();
    if (/^[0-9A-Za-z.+-]{1,100}$/.test(written)) return (cached = written);
  } catch {
    // Not built: the sources' own identity below.
  }
  const mtime = statSync(fileURLToPath(import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return (cached = `${NEXORA_VERSION}+${Math.round(mtime).toString(36)}`);
}
