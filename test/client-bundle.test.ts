import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from './fixtures/run-cli.js';

/**
 * The bundled client path (dist/cli/client.cjs, `npm run build`): bin/nexora.js runs the
 * commands it lists from it, and they must behave exactly as the same commands of main.js.
 */
const mainPath = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const bundlePath = fileURLToPath(new URL('../dist/cli/client.cjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'nexora-client-bundle-'));
const env = { ...process.env, NEXORA_HOME: join(root, 'home'), DATABASE_URL: '', NEXORA_DEBUG: '' };
// Preloaded into the CLI: writes the CommonJS files it loaded, so a test can see which path ran.
const probe = join(root, 'loaded.cjs');
writeFileSync(probe, "process.on('exit', () => require('node:fs').writeFileSync(process.env.NEXORA_TEST_LOADED, JSON.stringify(Object.keys(require.cache))));\n");

afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(script: string, args: string[]): { code: number | null; stdout: string; stderr: string; loaded: string[] } {
  const loadedFile = join(root, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const result = spawnSync(process.execPath, ['--require', probe, script, ...args], { env: { ...env, NEXORA_TEST_LOADED: loadedFile }, encoding: 'utf8', timeout: 60_000 });
  const loaded = JSON.parse(readFileSync(loadedFile, 'utf8')) as string[];
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, loaded };
}

describe('the bundled client path', () => {
  it('lists the session command and its alias, and carries no heavy package', () => {
    const manifest = JSON.parse(readFileSync(join(mainPath, '..', 'client.json'), 'utf8')) as { commands: string[] };
    expect(manifest.commands).toEqual(expect.arrayContaining(['session', 'sessions']));
    const bundle = readFileSync(bundlePath, 'utf8');
    for (const heavy of ['node_modules/ink/', 'node_modules/ai/', 'node_modules/@electric-sql/', 'node_modules/dockerode/', 'node_modules/zod/v4/classic/']) expect(bundle).not.toContain(heavy);
  });

  it.each([
    [['session', '--help']],
    [['sessions', 'list', '--help']],
    [['session', 'info', 'not a session id']],
    [['session', 'info']],
    [['session', 'start', '--user', 'me']],
    [['session', 'export', 'ses_x', '--format', 'pdf']],
    [['session', 'export', 'ses_x', '--out', '']],
    [['session', 'replay', 'ses_x', '--export', 'video']],
    [['session', 'lsit']],
    [['session', 'list', '--frob']],
  ])('nexora %j: runs from the bundle, with the output and exit status of main.js', (args) => {
    const bundled = run(cliPath, args);
    expect(bundled.loaded).toContain(bundlePath);
    const unbundled = run(mainPath, args);
    expect(unbundled.loaded).not.toContain(bundlePath);
    expect({ code: bundled.code, stdout: bundled.stdout, stderr: bundled.stderr }).toEqual({ code: unbundled.code, stdout: unbundled.stdout, stderr: unbundled.stderr });
    expect(bundled.code).not.toBeNull();
  });

  it('other commands do not load it', () => {
    const doctor = run(cliPath, ['doctor', '--help']);
    expect(doctor.code).toBe(0);
    expect(doctor.loaded).not.toContain(bundlePath);
  });
});
