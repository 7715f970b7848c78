import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { testLabels } from '../fixtures/image-containers.js';
import { createDockerClient } from '../../src/workstation/docker/docker-client.js';
import { verifyGitMounts } from '../../src/workstation/docker/mount-check.js';
import { workspaceMounts } from '../../src/workstation/docker/workspace-mounts.js';
import { workstationImageTag } from '../../src/workstation/image/index.js';
import { planGitProtection } from '../../src/workstation/workspace-git-layout.js';

/**
 * Docker follows a link in a bind mount's source. A process that swaps `.git/config` for a link
 * to a host file after the mounts are planned and before the container starts gets that host
 * file mounted in the workstation. The engine cannot be told not to follow, so the backend asks
 * the started container what it has at each mount point; this is that check, against a real
 * engine and a real swap.
 */
const docker = createDockerClient();
const image = process.env.NEXORA_WORKSTATION_IMAGE || workstationImageTag();
const root = mkdtempSync(join(tmpdir(), 'nexora-mount-swap-'));
const created: Docker.Container[] = [];
afterAll(async () => {
  await Promise.all(created.map((container) => container.remove({ force: true }).catch(() => undefined)));
  rmSync(root, { recursive: true, force: true });
});

async function started(workspaceDir: string, plan: ReturnType<typeof planGitProtection>): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Labels: testLabels,
    Entrypoint: ['sleep', 'infinity'],
    HostConfig: { Mounts: workspaceMounts(workspaceDir, plan), Tmpfs: { '/run/nexora': 'mode=1777' }, NetworkMode: 'none' },
  });
  created.push(container);
  await container.start();
  return container;
}

function repository(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

describe('a git mount source swapped for a link between the plan and the start', () => {
  it('is found in the started container and refused; the untouched layout passes', async () => {
    const hostSecret = join(root, 'host-config');
    writeFileSync(hostSecret, '[core]\n\tfsmonitor = host\n');

    const clean = repository('clean');
    const cleanPlan = planGitProtection(clean);
    await expect(verifyGitMounts(docker, (await started(clean, cleanPlan)).id, cleanPlan, { timeoutMs: 30_000 })).resolves.toBeUndefined();

    const swapped = repository('swapped');
    const plan = planGitProtection(swapped);
    expect(plan.map((path) => path.target)).toContain('/workspace/.git/config');
    // The attacker's move, after the plan: the config becomes a link to a host file.
    renameSync(join(swapped, '.git', 'config'), join(swapped, '.git', 'config.old'));
    symlinkSync(hostSecret, join(swapped, '.git', 'config'));
    const container = await started(swapped, plan);
    await expect(verifyGitMounts(docker, container.id, plan, { timeoutMs: 30_000 })).rejects.toThrow(
      /did not get the workspace's own git metadata at \/workspace\/\.git\/config: it was replaced/,
    );
  }, 120_000);
});
