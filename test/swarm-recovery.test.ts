import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import type { SessionManager } from '../src/sessions/session-manager.js';
import { PortAllocator, type Db, type SessionId } from '../src/store/index.js';
import { runCli } from './fixtures/run-cli.js';
import { spawnSessionChild } from './fixtures/session-child-process.js';
import { createSessionEnv, WORKSPACE_GID, WORKSPACE_UID, type SessionEnv } from './fixtures/session-env.js';
import { clusterLeftovers, createSwarmCluster, type SwarmCluster, type SwarmNode } from './fixtures/swarm-cluster.js';

// What happens on a real three-node swarm (test/fixtures/swarm-cluster.ts) when things go
// wrong: a node dies under the `restart` health policy (its sessions come back on another node,
// their workspace on the shared filesystem), and reconciliation after a process killed half-way
// or a service removed behind Nexora's back. Nothing may be left on any node afterwards.

let world: SessionEnv;
let cluster: SwarmCluster | undefined;

beforeAll(async () => {
  world = await createSessionEnv('swrec');
  cluster = await createSwarmCluster({ image: world.image, log: (line) => process.stdout.write(`[swarm] ${line}\n`) });
}, 900_000);

afterAll(async () => {
  const prefix = cluster?.prefix;
  await world?.dispose();
  await cluster?.dispose();
  if (prefix) expect(await clusterLeftovers(prefix)).toEqual([]);
}, 300_000);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function requireCluster(): SwarmCluster {
  if (!cluster) throw new Error('no cluster');
  return cluster;
}

function nodeNamed(hostname: string | undefined): SwarmNode {
  const node = requireCluster().nodes.find((candidate) => candidate.hostname === hostname);
  if (!node) throw new Error(`no node ${hostname}`);
  return node;
}

/** A run's containers on one node (running or not). */
async function containersOn(node: SwarmNode, runId: string): Promise<{ Labels: Record<string, string>; State: string }[]> {
  return node.docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } });
}

async function servicesOf(runId: string): Promise<unknown[]> {
  return requireCluster().manager.docker.listServices({ filters: { label: [`dev.nexora.testrun=${runId}`] } });
}

/** Waits until no node holds a container of the run (a removed service's task stops a moment later). */
async function waitNothingOnNodes(runId: string): Promise<void> {
  await waitFor(`no container of ${runId} on any node`, async () => {
    for (const node of requireCluster().nodes) if ((await containersOn(node, runId)).length > 0) return undefined;
    return true;
  }, 60_000);
}

interface StartedJson {
  session: { id: string };
  info: { ready: boolean; node?: string };
}

interface SessionJson {
  id: string;
  status: string;
  node?: string | null;
}

describe("a node's death under the restart policy", () => {
  const runId = `swr-${randomBytes(3).toString('hex')}`;
  let env: NodeJS.ProcessEnv;
  let client: NexoraClient;
  let home: string;
  const cli = (...args: string[]) => runCli(args, { env, timeoutMs: 300_000 });

  beforeAll(async () => {
    home = join(world.home, 'server');
    const block = 30_000 + 200 * Math.floor(Math.random() * 25);
    env = {
      ...requireCluster().env,
      NEXORA_HOME: home,
      DATABASE_URL: '',
      NEXORA_WORKSTATION_IMAGE: world.image,
      NEXORA_VNC_PORTS: `${block}-${block + 49}`,
      NEXORA_CDP_PORTS: `${block + 10_000}-${block + 10_049}`,
      NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
      NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
      NEXORA_START_TIMEOUT: '240',
      NEXORA_HEALTH_POLICY: 'restart',
      CI: '1',
    };
    client = new NexoraClient({ socketPath: serverFiles({ home, logs: join(home, 'logs') }).socket });
    const server = await cli('server', 'start');
    expect(server.code, server.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    if (env) await runCli(['server', 'stop'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    client?.close();
    // What the health monitor did, for a failure's diagnosis (the home goes with the run).
    const log = serverFiles({ home, logs: join(home, 'logs') }).log;
    if (existsSync(log)) for (const line of readFileSync(log, 'utf8').split('\n')) if (/health|reconciled/.test(line)) process.stdout.write(`[server] ${line}\n`);
  }, 180_000);

  it('its sessions are started again on another node and their tools work there, with the same workspace', async () => {
    // The workspace is on this machine's filesystem, which every node of the fixture shares.
    const workspace = world.workspace('restart');
    const starts = await Promise.all(
      Array.from({ length: 3 }, async () => {
        let result: StartedJson | undefined;
        await client.stream('POST', '/v1/sessions', { workspaceDir: workspace, usePool: false }, ({ event, data }) => {
          if (event === 'result') result = data as StartedJson;
          if (event === 'error') throw new Error(JSON.stringify(data));
        });
        if (!result) throw new Error('no result');
        return result;
      }),
    );
    const manager = requireCluster().manager.hostname;
    // A worker's node dies (the manager's would take the swarm's control plane with it).
    const onWorker = starts.find((item) => item.info.node && item.info.node !== manager);
    expect(onWorker, `placements: ${starts.map((item) => item.info.node).join(', ')}`).toBeDefined();
    const victim = nodeNamed(onWorker?.info.node);
    const lost = starts.filter((item) => item.info.node === victim.hostname).map((item) => item.session.id);
    const kept = starts.filter((item) => item.info.node !== victim.hostname);

    for (const id of lost) {
      const wrote = await client.post<{ exitCode: number }>(`/v1/sessions/${id}/execute`, { command: `echo before-${id} > note-${id}.txt` }, { timeoutMs: 120_000 });
      expect(wrote.exitCode).toBe(0);
      // Open the session's channels (VNC, terminal) on the old node: they must not outlive it.
      await client.get(`/v1/sessions/${id}/screen`);
    }

    await requireCluster().killDockerd(victim);
    let restarted = false;
    try {
      const moved = await waitFor('the lost sessions to run on another node', async () => {
        const { sessions } = await client.get<{ sessions: SessionJson[] }>('/v1/sessions?all=1');
        const mine = lost.map((id) => sessions.find((session) => session.id === id));
        if (mine.some((session) => session?.status !== 'active' && session?.status !== undefined)) {
          throw new Error(`a lost session ended instead of restarting: ${JSON.stringify(mine)}`);
        }
        if (!mine.every((session) => session?.node && session.node !== victim.hostname)) return undefined;
        // Placed elsewhere; restarted once the desktop is ready there (the step's event says so).
        for (const id of lost) {
          const { events } = await client.get<{ events: { kind: string }[] }>(`/v1/sessions/${id}/events`);
          if (!events.some((event) => event.kind === 'workstation-restart')) return undefined;
        }
        return mine;
      }, 300_000);
      expect(moved.map((session) => session?.status)).toEqual(lost.map(() => 'active'));

      for (const [index, id] of lost.entries()) {
        // The restart was recorded in the session's history.
        const { events } = await client.get<{ events: { kind: string }[] }>(`/v1/sessions/${id}/events`);
        expect(events.map((event) => event.kind)).toEqual(expect.arrayContaining(['workstation-health', 'workstation-restart']));
        const executed = await client.post<{ stdout: string; exitCode: number }>(`/v1/sessions/${id}/execute`, { command: `cat note-${id}.txt && hostname` }, { timeoutMs: 120_000 });
        expect(executed.exitCode).toBe(0);
        expect(executed.stdout).toBe(`before-${id}\nworkstation\n`);
        await client.post(`/v1/sessions/${id}/keyboard`, { text: `echo moved-$((${index}+30))\n`, timeoutMs: 10_000 }, { timeoutMs: 120_000 });
        await waitFor(`typed output in ${id}`, async () => {
          const terminal = await client.get<{ text: string }>(`/v1/sessions/${id}/terminal`);
          return new RegExp(`^moved-${index + 30}\\s*$`, 'm').test(terminal.text) ? true : undefined;
        }, 60_000);
        const screen = await client.get<{ text?: string }>(`/v1/sessions/${id}/screen`);
        expect(JSON.stringify(screen)).toContain(`moved-${index + 30}`);
      }
      // The written file is on the shared filesystem, where the host sees it too.
      for (const id of lost) expect(readFileSync(join(workspace, `note-${id}.txt`), 'utf8')).toBe(`before-${id}\n`);

      // The sessions on live nodes were left where they were.
      const { sessions } = await client.get<{ sessions: SessionJson[] }>('/v1/sessions');
      for (const item of kept) {
        const session = sessions.find((candidate) => candidate.id === item.session.id);
        expect(session?.status).toBe('active');
        expect(session?.node).toBe(item.info.node);
      }

      // The node comes back: Swarm tells it the old tasks are over, and their containers go.
      await requireCluster().restartDockerd(victim);
      restarted = true;
    } finally {
      // The later tests need every node, whatever happened here.
      if (!restarted) await requireCluster().restartDockerd(victim);
    }
    await waitFor('the restarted node to drop the old tasks’ containers', async () => {
      const here = await containersOn(victim, runId);
      return here.some((container) => lost.includes(container.Labels['dev.nexora.session'] ?? '') && container.State === 'running') ? undefined : true;
    });
  }, 900_000);

  it('stop removes every service; nothing is left on any node', async () => {
    const { sessions } = await client.get<{ sessions: SessionJson[] }>('/v1/sessions');
    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) {
      const stop = await cli('session', 'stop', session.id);
      expect(stop.code, stop.stderr).toBe(0);
    }
    expect(await servicesOf(runId)).toEqual([]);
    await waitNothingOnNodes(runId);
  }, 300_000);
});

describe('reconciliation on the swarm', () => {
  const swarmEnv = (): NodeJS.ProcessEnv => ({ ...world.env, ...requireCluster().env, NEXORA_POOL_SIZE: '0', NEXORA_START_TIMEOUT: '240' });
  const open = () => world.open({ env: swarmEnv(), docker: requireCluster().manager.docker });

  it('a nexora process killed mid-start: its service is removed, the session crashed, its ports released', async () => {
    // The child opens this run's store and asks the swarm's manager (DOCKER_HOST) for everything.
    const saved = { ...process.env };
    Object.assign(process.env, requireCluster().env, { NEXORA_POOL_SIZE: '0', NEXORA_START_TIMEOUT: '240', DOCKER_HOST: requireCluster().env.NEXORA_SWARM_MANAGER });
    let child;
    try {
      child = spawnSessionChild(world, world.workspace('killed'));
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    await child.waitFor('STEP waiting for the desktop', 300_000);
    await child.kill();
    expect(await servicesOf(world.runId)).toHaveLength(1);

    const { manager, db, close } = await open();
    try {
      const report = await manager.reconcile();
      expect(report.removedContainers).toHaveLength(1);
      expect(report.crashedSessions).toHaveLength(1);
      await expectCrashedAndNothingLeft({ manager, db, sessionId: report.crashedSessions[0] as SessionId, reason: /start interrupted/ });
    } finally {
      await close();
    }
  }, 600_000);

  it('a service with Nexora’s labels and no session is removed; a session whose service vanished is marked crashed', async () => {
    const { manager, db, close } = await open();
    try {
      const workspace = world.workspace('vanished');
      const started = await manager.start({ workspaceDir: workspace, usePool: false });
      // A workstation service no session row knows of (a server killed between create and record).
      const orphan = await manager.backend.create({ sessionId: `orphan${randomBytes(4).toString('hex')}`, workspaceDir: workspace, user: { uid: WORKSPACE_UID, gid: WORKSPACE_GID }, vncPort: 46_990, cdpPort: 47_990, startTimeoutMs: 240_000 });
      // And the session's own service removed behind Nexora's back.
      await requireCluster().manager.docker.getService(started.info.id).remove();

      const report = await manager.reconcile();
      expect(report.removedContainers).toEqual([orphan.name]);
      expect(report.crashedSessions).toEqual([started.session.id]);
      await expectCrashedAndNothingLeft({ manager, db, sessionId: started.session.id, reason: /disappeared/ });
    } finally {
      await close();
    }
  }, 600_000);
});

/** The session is crashed for `reason`, and nothing of the run is left: no port held, no service, no container on any node. */
async function expectCrashedAndNothingLeft(options: { manager: SessionManager; db: Db; sessionId: SessionId; reason: RegExp }): Promise<void> {
  const session = await options.manager.sessions.get(options.sessionId);
  expect(session.status).toBe('crashed');
  expect(session.statusReason).toMatch(options.reason);
  expect(await new PortAllocator().holders(options.db)).toEqual([]);
  expect(await servicesOf(world.runId)).toEqual([]);
  await waitNothingOnNodes(world.runId);
}
