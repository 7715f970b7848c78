import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './fixtures/run-cli.js';

describe('nexora doctor', () => {
  it('passes on a machine with a running engine, the image built and free ports', async () => {
    const home = mkdtempSync(join(tmpdir(), 'nexora-doctor-'));
    try {
      const result = await runCli(['doctor'], { env: { NEXORA_HOME: home, DATABASE_URL: '' } });
      expect(result.stdout).toMatch(/✓ Docker engine: .*engine/);
      expect(result.stdout).toMatch(/✓ Node\.js: v\d+/);
      expect(result.stdout).toMatch(/✓ Workstation image: nexora-workstation:[0-9a-f]{12} is present and current/);
      expect(result.stdout).toContain(`✓ Database: embedded PGlite at ${home}/db`);
      expect(result.stdout).toMatch(/✓ Ports: VNC 5900-5999: \d+ of 100 free/);
      expect(result.code).toBe(0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('passes while the server runs, asking it about the store it holds (the embedded one admits one process)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'nexora-doctor-served-'));
    const env = { NEXORA_HOME: home, DATABASE_URL: '' };
    try {
      const started = await runCli(['server', 'start'], { env, timeoutMs: 300_000 });
      expect(started.code, started.stderr).toBe(0);
      const result = await runCli(['doctor'], { env });
      expect(result.stdout).toContain(`✓ Database: embedded PGlite at ${home}/db (held by the running Nexora server)`);
      expect(result.stdout).not.toMatch(/in use by nexora process/);
      expect(result.code, result.stdout).toBe(0);
    } finally {
      await runCli(['server', 'stop'], { env, timeoutMs: 120_000 });
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('reports a missing image with how to build it', async () => {
    const result = await runCli(['doctor'], { env: { DOCKER_HOST: 'unix:///tmp/nexora-no-engine-here.sock' } });
    expect(result.stdout).toContain('✗ Workstation image: not checked: the Docker engine is not reachable');
  });

  it('reports an unreachable database server with a fix', async () => {
    const result = await runCli(['doctor'], { env: { DATABASE_URL: 'postgres://nobody:secret-password@127.0.0.1:1/none' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ Database: /);
    expect(result.stdout).toContain('fix: check DATABASE_URL');
    expect(result.stdout).toContain('postgres://nobody:***@127.0.0.1:1/none');
    expect(result.stdout).not.toContain('secret-password');
  });

  it('reports a stopped Docker engine as a failure with a fix', async () => {
    const result = await runCli(['doctor'], { env: { DOCKER_HOST: 'unix:///tmp/nexora-no-engine-here.sock' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ Docker engine: not reachable at unix:///tmp/nexora-no-engine-here.sock');
    expect(result.stdout).toMatch(/fix: start the engine at unix:\/\/\/tmp\/nexora-no-engine-here\.sock/);
    expect(result.stdout).toMatch(/check(s)? failed/);
  });

  it('reports a bad port range setting with how to fix it', async () => {
    const result = await runCli(['doctor'], { env: { NEXORA_VNC_PORTS: '7000-6000' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ Settings: NEXORA_VNC_PORTS=7000-6000 is not a valid port range');
  });

  it('prints machine-readable JSON on request', async () => {
    const result = await runCli(['doctor', '--json'], { env: { DOCKER_HOST: 'unix:///tmp/nexora-no-engine-here.sock' } });
    const parsed = JSON.parse(result.stdout) as { name: string; ok: boolean }[];
    expect(parsed.find((check) => check.name === 'Docker engine')?.ok).toBe(false);
    expect(result.code).toBe(1);
  });
});
