import { describe, expect, it } from 'vitest';
import { runCli } from './fixtures/run-cli.js';

describe('nexora doctor', () => {
  it('passes on a machine with a running engine', async () => {
    const result = await runCli(['doctor']);
    expect(result.stdout).toMatch(/✓ Docker engine: .*engine/);
    expect(result.stdout).toMatch(/✓ Node\.js: v\d+/);
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
