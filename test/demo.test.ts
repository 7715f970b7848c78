import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { runCli } from './fixtures/run-cli.js';

const home = mkdtempSync(join(tmpdir(), 'nexora-demo-home-'));

afterAll(async () => {
  // The demo removes its own container; make sure of it even when a test failed.
  const docker = createDockerClient();
  const leftovers = await docker.listContainers({ all: true, filters: { label: ['dev.nexora.managed=1'] } });
  for (const container of leftovers) {
    if ((container.Labels['dev.nexora.workspace'] ?? '').startsWith(home)) await docker.getContainer(container.Id).remove({ force: true });
  }
  rmSync(home, { recursive: true, force: true });
});

function screenshotPaths(output: string): string[] {
  return [...output.matchAll(/screenshot: (\S+\.png)/g)].map((match) => match[1]!);
}

function isBlank(png: PNG): boolean {
  const first = png.data.readUInt32BE(0);
  for (let offset = 0; offset < png.data.length; offset += 4) if (png.data.readUInt32BE(offset) !== first) return false;
  return true;
}

describe('nexora demo', () => {
  it('runs the scripted workflow end to end and saves real screenshots', async () => {
    const result = await runCli(['demo'], { env: { NEXORA_HOME: home, DATABASE_URL: '' }, timeoutMs: 600_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no language model is involved');
    expect(result.stdout).toMatch(/│ hello from nexora/);
    expect(result.stdout).toContain('│ processed: test');
    expect(result.stdout).toContain('main.go on the host now has the empty-input check');
    // Every step is printed with its time.
    expect(result.stdout).toMatch(/✓ Type `echo hello from nexora` and press Enter \(\d+ ms\)/);
    expect(result.stdout).toMatch(/✓ Stop the session and remove its workstation \(\d+/);

    const paths = screenshotPaths(result.stdout);
    expect(paths.length).toBeGreaterThanOrEqual(5);
    const first = PNG.sync.read(readFileSync(paths[0]!));
    expect([first.width, first.height]).toEqual([1280, 800]);
    expect(isBlank(first)).toBe(false);

    const workspace = /Workspace:\s+(\S+)/.exec(result.stdout)?.[1];
    expect(readFileSync(join(workspace!, 'main.go'), 'utf8')).toContain('return "error: empty input"');
  });
});
