import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { eventually } from './fixtures/eventually.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';
import { clusterLeftovers, createSwarmCluster, type SwarmCluster } from './fixtures/swarm-cluster.js';

// The swarm backend's network settings on a real two-node swarm (test/fixtures/swarm-cluster.ts,
// without the image: nothing here gets as far as running a workstation). Node 1's dockerd
// publishes ports on its cluster address only (`--ip`); node 2's on every address, the engine's
// default. `isolated` is refused, a node that would publish VNC everywhere keeps sessions from
// starting until it is drained, and doctor says what protects the workstations' egress.

const sh = async (command: string, args: string[]): Promise<string> => (await promisify(execFile)(command, args, { timeout: 120_000 })).stdout;
const runId = `swn-${randomBytes(3).toString('hex')}`;
let cluster: SwarmCluster | undefined;
let root: string;
let env: NodeJS.ProcessEnv;
let workspace: string;
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...extra }, cwd: workspace, timeoutMs: 180_000 });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  cluster = await createSwarmCluster({ nodes: 2, publishOnAllAddresses: [2], log: (line) => process.stdout.write(`[swarm] ${line}\n`) });
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  const block = 30_000 + 200 * Math.floor(Math.random() * 25);
  env = {
    ...cluster.env,
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_WORKSTATION_IMAGE: await testImage(createDockerClient()),
    NEXORA_VNC_PORTS: `${block}-${block + 9}`,
    NEXORA_CDP_PORTS: `${block + 10_000}-${block + 10_009}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_POOL_SIZE: '0',
    CI: '1',
  };
}, 600_000);

afterAll(async () => {
  if (env) await runCli(['server', 'stop'], { env, timeoutMs: 120_000 }).catch(() => undefined);
  const prefix = cluster?.prefix;
  await cluster?.dispose();
  rmSync(root, { recursive: true, force: true });
  if (prefix) expect(await clusterLeftovers(prefix)).toEqual([]);
}, 300_000);

async function services(): Promise<unknown[]> {
  return (await cluster?.manager.docker.listServices({ filters: { label: [`dev.nexora.testrun=${runId}`] } })) ?? [];
}

/** gcc with a static C library: what builds the one-file image of the publishing test. */
function hasStaticCompiler(): boolean {
  return spawnSync('gcc', ['--version']).status === 0 && existsSync('/usr/lib/x86_64-linux-gnu/libc.a');
}

describe('swarm workstation networks', () => {
  it('refuses NEXORA_WORKSTATION_NETWORK=isolated with one clear error, and creates nothing', async () => {
    const refused = await cli(['session', 'start'], { NEXORA_WORKSTATION_NETWORK: 'isolated', NEXORA_HOME: join(root, 'home-iso') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nexora: NEXORA_WORKSTATION_NETWORK=isolated is not available with NEXORA_BACKEND=swarm: an internal overlay network has no published ports');
    const doctor = await cli(['doctor'], { NEXORA_WORKSTATION_NETWORK: 'isolated' });
    expect(doctor.stdout).toContain('✗ Swarm: NEXORA_WORKSTATION_NETWORK=isolated is not available with NEXORA_BACKEND=swarm');
    expect(await services()).toEqual([]);
  }, 240_000);

  it('doctor reports that Nexora does not guard the nodes, and which node publishes VNC on every address', async () => {
    const [first, second] = cluster?.nodes ?? [];
    const doctor = await cli(['doctor']);
    expect(doctor.stdout).toContain(`✗ VNC publishing: ${second?.hostname} publishes workstation VNC ports on 0.0.0.0 (every address), not only on ${second?.address}, where the server reaches it`);
    expect(doctor.stdout).not.toContain(`${first?.hostname} publishes workstation VNC ports`);
    expect(doctor.stdout).toContain('fix: start each such node\'s dockerd with --ip=<its cluster address>');
    expect(doctor.stdout).toContain('! Workstation egress: NOT enforced by Nexora on swarm nodes: workstations sit on each node\'s default bridge (docker0)');
    expect(doctor.stdout).toContain('iptables -I INPUT -i docker0 -m comment --comment nexora-egress:docker0:host -m conntrack --ctstate NEW,INVALID -j DROP');
    expect(doctor.code).toBe(1);
  }, 240_000);

  // What the check relies on: a host-mode port of a Swarm service is published where the node's
  // dockerd --ip says, and on every address without it. A static do-nothing program in a
  // one-file image (no registry, nothing pulled) is enough to publish a port.
  it.skipIf(!hasStaticCompiler())('a host-mode port of a swarm service listens on the node\'s --ip address only, and on every address without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), `nexora-${runId}-img-`));
    try {
      writeFileSync(join(dir, 'pause.c'), '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n');
      await sh('gcc', ['-static', '-O2', '-o', join(dir, 'pause'), join(dir, 'pause.c')]);
      await sh('tar', ['-C', dir, '-cf', join(dir, 'image.tar'), 'pause']);
      const port = 40_000 + Math.floor(Math.random() * 1000);
      const listening: Record<string, string> = {};
      for (const node of cluster?.nodes ?? []) {
        const stream = await node.docker.importImage(join(dir, 'image.tar'), { repo: `nexora-${runId}-pause`, tag: '1' });
        await new Promise((resolve, reject) => node.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve(undefined))));
        const service = await cluster?.manager.docker.createService({
          Name: `nexora-${runId}-publish-${node.hostname}`,
          Labels: { 'dev.nexora.testrun': runId },
          TaskTemplate: { ContainerSpec: { Image: `nexora-${runId}-pause:1`, Command: ['/pause'] }, Placement: { Constraints: [`node.hostname==${node.hostname}`] }, RestartPolicy: { Condition: 'none' } },
          EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'host' }] },
        });
        try {
          listening[node.hostname] = await eventually(
            async () => (await sh('ip', ['netns', 'exec', node.namespace, 'ss', '-Htln', `sport = :${port}`])).trim().split(/\s+/)[3] ?? '',
            (address) => address !== '',
            `the published port on ${node.hostname}`,
            60_000,
          );
        } finally {
          await service?.remove();
          await eventually(() => node.docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=nexora-${runId}-publish-${node.hostname}`] } }), (left) => left.length === 0, 'the service\'s container to go', 60_000);
        }
      }
      const [first, second] = cluster?.nodes ?? [];
      expect(listening[first?.hostname ?? '']).toBe(`${first?.address}:${port}`);
      // Every address, IPv4 and IPv6 (docker-proxy's `[::]`).
      expect(listening[second?.hostname ?? '']).toMatch(new RegExp(`^(0\\.0\\.0\\.0|\\[::\\]|\\*):${port}$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('a node that would publish VNC on every address keeps sessions from starting until it is drained', async () => {
    const [first, second] = cluster?.nodes ?? [];
    const refused = await cli(['session', 'start']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Swarm node(s) ${second?.hostname} (publishes on 0.0.0.0, not only ${second?.address}) would publish a workstation's VNC port on every address`);
    expect(await services()).toEqual([]);

    const node = (await cluster?.manager.docker.listNodes())?.find((entry: { Description?: { Hostname?: string } }) => entry.Description?.Hostname === second?.hostname) as { ID: string; Version: { Index: number }; Spec: Record<string, unknown> };
    await cluster?.manager.docker.getNode(node.ID).update({ version: node.Version.Index, ...node.Spec, Availability: 'drain' });
    // Past the check: the next thing a start needs is the image, which this cluster lacks.
    const next = await cli(['session', 'start']);
    expect(next.code).toBe(1);
    expect(next.stderr).toContain(`is missing on swarm node(s) ${first?.hostname}:`);
    expect(next.stderr).not.toContain('would publish');
    const doctor = await cli(['doctor']);
    expect(doctor.stdout).toContain(`✓ VNC publishing: every node publishes workstation ports on its cluster address only (${first?.hostname} ${first?.address})`);
  }, 240_000);
});
