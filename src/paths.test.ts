import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageManifest } from './package-info.js';
import { packageRoot } from './paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'nexora paths '));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('packageRoot', () => {
  it('is a real directory path, with spaces and escapes decoded', async () => {
    // A copy of the module (it imports only node:) under a directory whose name needs escaping in a URL.
    const linked = join(scratch, 'p fx %41');
    mkdirSync(join(linked, 'src'), { recursive: true });
    copyFileSync(join(packageRoot(), 'src', 'paths.ts'), join(linked, 'src', 'paths.ts'));
    const copy = (await import(pathToFileURL(join(linked, 'src', 'paths.ts')).href)) as { packageRoot: typeof packageRoot };
    expect(copy.packageRoot()).toBe(`${linked}/`);
  });

  it('holds the package.json whose version the CLI reports', () => {
    expect(packageManifest().name).toBe('nexora');
    expect(packageManifest().version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
