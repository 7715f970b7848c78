import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildId, NEXORA_VERSION } from './version.js';

describe('version', () => {
  it('matches package.json, and the build id starts with it', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(NEXORA_VERSION).toBe(pkg.version);
    expect(buildId().startsWith(`${pkg.version}+`)).toBe(true);
  });
});
