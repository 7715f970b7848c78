import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
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
    // What a checkout holds that the build reads (scripts/bundle-client.js makes the client bundle).
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE', 'README.md', 'bin', 'src', 'scripts']) {
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
    expect(files).toContain('package/dist/sdk/index.d.ts');
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

  it('the installed `nexora mcp` answers initialize and tools/list, and `nexora` imports as the SDK with types', { timeout: 600_000 }, async () => {
    const nexora = join(prefix, 'bin', 'nexora');
    const env = { ...(process.env as Record<string, string>), NEXORA_HOME: home, DATABASE_URL: '' };
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: nexora, args: ['mcp'], env, stderr: 'ignore' }));
    expect(client.getServerVersion()?.name).toBe('nexora');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['screen', 'keyboard', 'mouse', 'execute', 'session_start', 'session_stop', 'session_list', 'browser_navigate']));
    await client.close();

    // A program of the user's with its own install of the same tarball (issue 21: the build id
    // was an install-time mtime, so this SDK and the global CLI's server refused each other).
    const app = join(root, 'my app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', type: 'module', private: true }));
    await npm(['install', tarball], app);
    writeFileSync(
      join(app, 'check.js'),
      "import { Nexora, NexoraError } from 'nexora';\nconsole.log(typeof Nexora.connect, NexoraError.is(new NexoraError('timeout', 'x'), 'timeout'));\n" +
        'const nexora = await Nexora.connect();\nconsole.log(`server ${nexora.server.pid} sessions ${(await nexora.sessions.list()).length}`);\nnexora.close();\n',
    );
    const started = await run(nexora, ['server', 'start'], { env, timeout: 300_000 });
    const pid = /pid (\d+)/.exec(started.stdout + started.stderr)?.[1];
    expect(pid, started.stdout + started.stderr).toBeDefined();
    const imported = await run(process.execPath, [join(app, 'check.js')], { cwd: app, env, timeout: 60_000 });
    expect(imported.stdout.trim().split('\n')).toEqual(['function true', `server ${pid} sessions 0`]);
    expect(existsSync(join(app, 'node_modules', 'nexora', 'dist', 'sdk', 'index.d.ts'))).toBe(true);
    await run(nexora, ['server', 'stop'], { env, timeout: 120_000 });
  });
});
