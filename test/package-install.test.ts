import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';

const run = promisify(execFile);

/**
 * The package as a user gets it: `npm ci` from the committed lock in a clean copy, `npm pack`
 * there (prepack builds dist/), the tarball installed into a fresh prefix whose path has a
 * space, and the installed `nexora` running doctor and the quick demo from it.
 */
const checkout = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'nexora package '));
const copy = join(root, 'copy');
const prefix = join(root, 'p fx');
const home = join(root, 'home dir');

afterAll(async () => {
  const docker = createDockerClient();
  const leftovers = await docker.listContainers({ all: true, filters: { label: ['dev.nexora.managed=1'] } });
  for (const container of leftovers) {
    if ((container.Labels['dev.nexora.workspace'] ?? '').startsWith(home)) await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  rmSync(root, { recursive: true, force: true });
});

const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });

describe('the npm package', () => {
  let tarball: string;

  it('npm ci accepts the committed lock file, and npm pack builds dist/ itself', { timeout: 1_200_000 }, async () => {
    mkdirSync(copy);
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE', 'README.md', 'bin', 'src']) {
      cpSync(join(checkout, entry), join(copy, entry), { recursive: true });
    }
    await npm(['ci'], copy);
    expect(existsSync(join(copy, 'node_modules', 'typescript'))).toBe(true);
    expect(existsSync(join(copy, 'dist'))).toBe(false);
    const packed = await npm(['pack', '--pack-destination', root], copy);
    tarball = join(root, packed.stdout.trim().split('\n').pop() ?? '');
    expect(tarball).toMatch(/nexora-\d+\.\d+\.\d+\.tgz$/);
    const listing = await run('tar', ['tzf', tarball]);
    const files = listing.stdout.split('\n');
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/LICENSE');
    expect(files.some((file) => file.startsWith('package/src/store/migrations/') && file.endsWith('.sql'))).toBe(true);
    expect(files.some((file) => file.startsWith('package/scripts/'))).toBe(false);
    expect(files.some((file) => file.endsWith('.test.js'))).toBe(false);
  });

  it('installs into a prefix whose path has a space and runs doctor and the quick demo from there', { timeout: 1_200_000 }, async () => {
    expect(tarball).toBeDefined();
    await npm(['install', '-g', '--prefix', prefix, tarball], root);
    const nexora = join(prefix, 'bin', 'nexora');
    const env = { ...process.env, NEXORA_HOME: home, DATABASE_URL: '' };
    const doctor = await run(nexora, ['doctor'], { env, timeout: 300_000 });
    expect(doctor.stdout).toContain('✓ Workstation image');
    expect(doctor.stdout).toContain(`✓ Database: embedded PGlite at ${join(home, 'db')}`);
    expect(doctor.stdout).toContain('All checks passed.');
    const demo = await run(nexora, ['demo', '--quick'], { env, timeout: 600_000 });
    expect(demo.stderr).toBe('');
    expect(demo.stdout).toMatch(/│ hello from nexora/);
    const screenshots = /Screenshots: (.+)/.exec(demo.stdout)?.[1];
    expect(screenshots?.startsWith(join(home, 'screenshots'))).toBe(true);
    expect(readdirSync(screenshots ?? '')).toContain('01-hello.png');
  });
});
