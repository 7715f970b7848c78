import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';
import { clusterLeftovers, createSwarmCluster, type SwarmCluster } from './fixtures/swarm-cluster.js';

// The swarm backend's network settings on a real two-node swarm (test/fixtures/swarm-cluster.ts,
// without the image: nothing here gets as far as running a workstation). Node 1's dockerd
// publishes ports on its cluster address only (`--ip`); node 2's on every address, the engine's
// default. `isolated` is refused, a node that would publish VNC everywhere keeps sessions from
// starting until it is drained, and doctor says what protects the workstations' egress.

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
