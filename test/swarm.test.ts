import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { NexoraError } from '../src/errors.js';
import { probeRfbServer } from '../src/rfb/index.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';
import { clusterLeftovers, createSwarmCluster, type SwarmCluster, type SwarmNode } from './fixtures/swarm-cluster.js';

// Sessions on a real three-node Docker Swarm built on this machine (test/fixtures/swarm-cluster.ts):
// started through the server, placed across nodes, used through the tools, reached only with
// their credentials, lost with their node, and removed from every node when stopped.

const runId = `swm-${randomBytes(3).toString('hex')}`;
let cluster: SwarmCluster | undefined;
let root: string;
let env: NodeJS.ProcessEnv;
let client: NexoraClient;
const cli = (...args: string[]) => runCli(args, { env, timeoutMs: 300_000 });

interface StartedJson {
  session: { id: string };
  info: { vncPort: number; ready: boolean; node?: string; vncHost?: string };
}

interface SessionJson {
  id: string;
  status: string;
  node?: string | null;
}

const started: StartedJson[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  const image = await testImage(createDockerClient());
  cluster = await createSwarmCluster({ image, log: (line) => process.stdout.write(`[swarm] ${line}\n`) });
  const workspace = join(root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  const block = 30_000 + 200 * Math.floor(Math.random() * 25);
  env = {
    ...cluster.env,
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_WORKSTATION_IMAGE: image,
    NEXORA_VNC_PORTS: `${block}-${block + 149}`,
    NEXORA_CDP_PORTS: `${block + 10_000}-${block + 10_149}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_START_TIMEOUT: '240',
    // A lost node's sessions are marked crashed (a restart elsewhere is the other policy).
    NEXORA_HEALTH_POLICY: 'crash',
    CI: '1',
  };
  client = new NexoraClient({ socketPath: serverFiles({ home: join(root, 'home'), logs: join(root, 'home', 'logs') }).socket });
  const server = await cli('server', 'start');
  expect(server.code, server.stderr).toBe(0);
}, 900_000);

afterAll(async () => {
  if (env) await runCli(['server', 'stop'], { env, timeoutMs: 120_000 }).catch(() => undefined);
  client?.close();
  const prefix = cluster?.prefix;
  await cluster?.dispose();
  rmSync(root, { recursive: true, force: true });
  if (prefix) expect(await clusterLeftovers(prefix)).toEqual([]);
}, 300_000);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function nodeNamed(hostname: string | undefined): SwarmNode {
  const node = cluster?.nodes.find((candidate) => candidate.hostname === hostname);
  if (!node) throw new Error(`no node ${hostname}`);
  return node;
}

async function runContainers(node: SwarmNode): Promise<{ Labels: Record<string, string> }[]> {
  return node.docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } });
}

describe('workstations on a three-node swarm', () => {
  it('six sessions started through the server land on several nodes, and the tools work on each', async () => {
    const workspace = join(root, 'ws');
    const starts = Array.from({ length: 6 }, async () => {
      let result: StartedJson | undefined;
      await client.stream('POST', '/v1/sessions', { workspaceDir: workspace, usePool: false }, ({ event, data }) => {
        if (event === 'result') result = data as StartedJson;
        if (event === 'error') throw new Error(JSON.stringify(data));
      });
      if (!result) throw new Error('no result');
      return result;
    });
    const settled = await Promise.allSettled(starts);
    expect(settled.filter((outcome) => outcome.status === 'rejected').map((outcome) => String(outcome.reason))).toEqual([]);
    for (const outcome of settled) if (outcome.status === 'fulfilled') started.push(outcome.value);
    expect(started.every((item) => item.info.ready)).toBe(true);
    const nodes = new Set(started.map((item) => item.info.node));
    expect(nodes.size).toBeGreaterThanOrEqual(2);
    for (const item of started) expect(cluster?.nodes.map((node) => node.address)).toContain(item.info.vncHost);

    // Each session's container is on the node the server says, and only there.
    for (const item of started) {
      for (const node of cluster?.nodes ?? []) {
        const here = (await runContainers(node)).filter((container) => container.Labels['dev.nexora.session'] === item.session.id);
        expect(here.length, `${item.session.id} on ${node.hostname}`).toBe(node.hostname === item.info.node ? 1 : 0);
      }
    }

    for (const [index, item] of started.entries()) {
      const id = item.session.id;
      const executed = await client.post<{ stdout: string; exitCode: number }>(`/v1/sessions/${id}/execute`, { command: `echo side-$((${index}+40)) && hostname` }, { timeoutMs: 120_000 });
      expect(executed.exitCode).toBe(0);
      expect(executed.stdout).toBe(`side-${index + 40}\nworkstation\n`);
      await client.post(`/v1/sessions/${id}/keyboard`, { text: `echo typed-$((${index}+70))\n`, timeoutMs: 10_000 }, { timeoutMs: 120_000 });
      // The shell's output line (not the typed command line, which holds `$((…))`).
      await waitFor(`typed output in ${id}`, async () => {
        const terminal = await client.get<{ text: string }>(`/v1/sessions/${id}/terminal`);
        return new RegExp(`^typed-${index + 70}\\s*$`, 'm').test(terminal.text) ? true : undefined;
      }, 30_000);
      const screen = await client.get<{ text?: string; width?: number }>(`/v1/sessions/${id}/screen`);
      expect(JSON.stringify(screen)).toContain(`typed-${index + 70}`);
    }

    const listed = await cli('session', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/NODE/);
    for (const item of started) expect(listed.stdout).toMatch(new RegExp(`${item.session.id}\\s+active.*${item.info.node ?? 'none'}`));
  }, 420_000);

  it('a workstation on a worker node answers VNC with its password and refuses a wrong one; no engine listens on the network', async () => {
    const onWorker = started.find((item) => item.info.node !== cluster?.manager.hostname);
    expect(onWorker).toBeDefined();
    const info = await client.get<{ vnc: string; vncPassword?: string }>(`/v1/sessions/${onWorker?.session.id}?showPassword=1`);
    const [host, port] = info.vnc.split(':') as [string, string];
    expect(host).toBe(onWorker?.info.vncHost);
    expect(info.vncPassword).toBeTruthy();
    const init = await probeRfbServer({ host, port: Number(port), password: info.vncPassword ?? '', timeoutMs: 10_000 });
    expect(init.width).toBeGreaterThan(0);
    const refused = await probeRfbServer({ host, port: Number(port), password: 'not-the-password', timeoutMs: 10_000 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(NexoraError.is(refused) ? refused.code : String(refused)).toBe('rfb-auth-failed');
    // Exec and attach go through the node's Engine API, which is a local socket here: nothing
    // on the cluster network answers on Docker's ports.
    for (const enginePort of [2375, 2376]) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host, port: enginePort });
        socket.once('connect', () => {
          socket.destroy();
          resolve('open');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(outcome).toBe('ECONNREFUSED');
    }
  });

  it("killing a node's dockerd marks its sessions crashed; the others keep working", async () => {
    const counts = new Map<string, number>();
    for (const item of started) counts.set(item.info.node ?? '', (counts.get(item.info.node ?? '') ?? 0) + 1);
    const victimName = [...counts.keys()].find((name) => name !== cluster?.manager.hostname);
    const victim = nodeNamed(victimName);
    await cluster?.killDockerd(victim);
    const lost = started.filter((item) => item.info.node === victim.hostname).map((item) => item.session.id);
    const kept = started.filter((item) => item.info.node !== victim.hostname);
    expect(lost.length).toBeGreaterThan(0);
    await waitFor('the lost node’s sessions to be marked crashed', async () => {
      const { sessions } = await client.get<{ sessions: SessionJson[] }>('/v1/sessions?all=1');
      return lost.every((id) => sessions.find((session) => session.id === id)?.status === 'crashed') ? true : undefined;
    });
    const { sessions } = await client.get<{ sessions: SessionJson[] }>('/v1/sessions?all=1');
    for (const item of kept) {
      expect(sessions.find((session) => session.id === item.session.id)?.status).toBe('active');
      const executed = await client.post<{ stdout: string }>(`/v1/sessions/${item.session.id}/execute`, { command: 'echo still-here' }, { timeoutMs: 120_000 });
      expect(executed.stdout).toBe('still-here\n');
    }
    // The node comes back: Swarm tells it the crashed sessions' services are gone.
    await cluster?.restartDockerd(victim);
    await waitFor('the restarted node to drop the removed services’ containers', async () => ((await runContainers(victim)).length === 0 ? true : undefined));
  });

  it('stop removes every service, and nothing of the run is left on any node', async () => {
    const { sessions } = await client.get<{ sessions: SessionJson[] }>('/v1/sessions');
    const active = sessions.filter((session) => session.status === 'active');
    expect(active.length).toBeGreaterThan(0);
    for (const session of active) {
      const stop = await cli('session', 'stop', session.id);
      expect(stop.code, stop.stderr).toBe(0);
    }
    const services = await cluster?.manager.docker.listServices({ filters: { label: [`dev.nexora.testrun=${runId}`] } });
    expect(services).toEqual([]);
    for (const node of cluster?.nodes ?? []) expect(await runContainers(node), node.hostname).toEqual([]);
  });
});
