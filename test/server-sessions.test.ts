import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HealthBody } from '../src/client/api-schemas.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';

// Sessions through the server, as users and programs reach it: many CLI commands at once on
// the default embedded store, a burst of starts through the admission queue, the pool kept
// full by the server alone, and a server killed mid-session.

const runId = `srv-${randomBytes(3).toString('hex')}`;
const docker = createDockerClient();
/** CI-sized burst; a quiet machine can take NEXORA_TEST_BURST=100. */
const burst = Number(process.env.NEXORA_TEST_BURST ?? 30);
let root: string;
let workspace: string;
let env: NodeJS.ProcessEnv;
let client: NexoraClient;

const labelFilter = { label: [`dev.nexora.testrun=${runId}`] };
const cli = (...args: string[]) => runCli(args, { env, timeoutMs: 400_000 });

interface StartedJson {
  session: { id: string };
  info: { vncPort: number; cdpPort: number; ready: boolean };
  fromPool: boolean;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  const block = 30_000 + 200 * Math.floor(Math.random() * 25);
  env = {
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_WORKSTATION_IMAGE: await testImage(docker),
    NEXORA_VNC_PORTS: `${block}-${block + 149}`,
    NEXORA_CDP_PORTS: `${block + 10_000}-${block + 10_149}`,
    NEXORA_NETWORK_NAME: `nexora-net-${runId}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_START_TIMEOUT: '300',
    CI: '1',
  };
  client = new NexoraClient({ socketPath: serverFiles({ home: join(root, 'home'), logs: join(root, 'home', 'logs') }).socket });
});

afterAll(async () => {
  await runCli(['server', 'stop'], { env, timeoutMs: 120_000 }).catch(() => undefined);
  client.close();
  for (const container of await docker.listContainers({ all: true, filters: labelFilter })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await docker.getNetwork(`nexora-net-${runId}`).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function ourContainers(): Promise<{ Id: string; State: string; Labels: Record<string, string> }[]> {
  return docker.listContainers({ all: true, filters: labelFilter });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// A test that fails half-way must not leave its sessions to the next one's container count.
afterEach(async () => {
  const listed = await client.get<{ sessions: { id: string; status: string }[] }>('/v1/sessions').catch(() => ({ sessions: [] }));
  for (const session of listed.sessions.filter((item) => item.status === 'active')) {
    await client.post(`/v1/sessions/${session.id}/stop`, {}, { timeoutMs: 120_000 }).catch(() => undefined);
  }
});

describe('the server with sessions', () => {
  it('ten CLI commands at once on a home with no server: all succeed, one server starts', async () => {
    const commands = [
      ['session', 'start', '--workspace', workspace, '--json', '--no-pool'],
      ['session', 'start', '--workspace', workspace, '--json', '--no-pool'],
      ['session', 'start', '--workspace', workspace, '--json', '--no-pool'],
      ['session', 'list'],
      ['session', 'list', '--all'],
      ['pool', 'status'],
      ['keys', 'list'],
      ['keys', 'list', '--json'],
      ['session', 'gc'],
      // `server status` is not here: it reports and never starts one, so at this moment "not running" is a true answer.
      ['server', 'start'],
      ['server', 'start'],
    ];
    const results = await Promise.all(commands.map((args) => cli(...args)));
    results.forEach((result, index) => {
      expect(result.code, `${commands[index]?.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stderr).not.toMatch(/EPIPE|unexpected error|at .*\.js:\d+/);
    });
    const started = results.slice(0, 3).map((result) => JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { session: string; vncPort: number; ready: boolean });
    expect(started.every((item) => item.ready)).toBe(true);
    expect(new Set(started.map((item) => item.vncPort)).size).toBe(3);
    const health = await client.get<HealthBody>('/v1/health');
    // One server answers for the home, and it holds the lock.
    expect(health.pid).toBeGreaterThan(0);
    expect(readFileSync(serverFiles({ home: join(root, 'home'), logs: join(root, 'home', 'logs') }).lock, 'utf8').trim()).toBe(String(health.pid));
    for (const result of results.slice(-2)) expect(result.stdout).toMatch(new RegExp(`^(started|already running): pid ${health.pid},`));
    const status = await cli('server', 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`running\\s+pid ${health.pid},`));
    const stops = await Promise.all(started.map((item) => cli('session', 'stop', item.session)));
    for (const stop of stops) expect(stop.code, stop.stderr).toBe(0);
    expect((await ourContainers()).length).toBe(0);
  });

  it(`${burst} starts at once: all ready through the queue, distinct ports, queue places reported`, async () => {
    const places: number[][] = [];
    const starts = Array.from({ length: burst }, async (_, index) => {
      let result: StartedJson | undefined;
      const seen: number[] = [];
      places[index] = seen;
      // A client each, as separate programs would: one client keeps at most 16 connections, and
      // all of these requests must reach the server at once.
      const own = new NexoraClient({ socketPath: serverFiles({ home: join(root, 'home'), logs: join(root, 'home', 'logs') }).socket });
      try {
        await own.stream('POST', '/v1/sessions', { workspaceDir: workspace, usePool: false }, ({ event, data }) => {
          if (event === 'queued') seen.push((data as { ahead: number }).ahead);
          if (event === 'result') result = data as StartedJson;
          if (event === 'error') throw new Error(JSON.stringify(data));
        });
      } finally {
        own.close();
      }
      if (!result) throw new Error('no result');
      return result;
    });
    const settled = await Promise.allSettled(starts);
    const failures = settled.filter((outcome) => outcome.status === 'rejected');
    expect(failures.map((failure) => String((failure).reason))).toEqual([]);
    const started = settled.map((outcome) => (outcome as PromiseFulfilledResult<StartedJson>).value);
    expect(started.every((item) => item.info.ready)).toBe(true);
    expect(new Set(started.map((item) => item.info.vncPort)).size).toBe(burst);
    expect(new Set(started.map((item) => item.info.cdpPort)).size).toBe(burst);
    const { admission } = await client.get<HealthBody>('/v1/health');
    // Everyone past the first `limit` waited, and was told how many were ahead.
    const queued = places.filter((seen) => seen.length > 0);
    expect(queued.length).toBeGreaterThanOrEqual(burst - admission.limit);
    // They all arrived together: the last in line saw nearly all the others waiting ahead of it.
    expect(Math.max(...places.flat())).toBeGreaterThanOrEqual(burst - admission.limit - 2);
    for (const item of started) await client.post(`/v1/sessions/${item.session.id}/stop`, {}, { timeoutMs: 120_000 });
    expect((await ourContainers()).length).toBe(0);
  });

  it('keeps the pool at its size while sessions are claimed, and retires it when idle', async () => {
    const warmed = await client.post<{ added: string[] }>('/v1/pool/warm', { workspaceDir: workspace, size: 2, idleTimeoutMs: 20_000 }, { timeoutMs: 400_000 });
    expect(warmed.added).toHaveLength(2);
    const paused = async (): Promise<number> => (await ourContainers()).filter((container) => container.State === 'paused').length;
    expect(await paused()).toBe(2);
    const claimed: StartedJson[] = [];
    for (let round = 0; round < 2; round++) {
      claimed.push(await client.post<StartedJson>('/v1/sessions', { workspaceDir: workspace }, { timeoutMs: 400_000 }));
      expect(claimed.at(-1)?.fromPool).toBe(true);
      // No command runs now: the server refills on its own (seen on the engine, not through the API).
      await waitFor('the pool to refill to 2', async () => ((await paused()) === 2 ? true : undefined));
    }
    for (const item of claimed) await client.post(`/v1/sessions/${item.session.id}/stop`, {}, { timeoutMs: 120_000 });
    // Nobody claims now: after the idle timeout the server retires the pool by itself.
    await waitFor('idle pool members to be retired', async () => ((await ourContainers()).length === 0 ? true : undefined), 180_000);
  });

  it('SIGKILL of the server mid-session: the next command starts a new one that keeps the session and reopens its tools', async () => {
    const started = await client.post<StartedJson>('/v1/sessions', { workspaceDir: workspace, usePool: false }, { timeoutMs: 400_000 });
    const before = await client.post<{ stdout: string; exitCode: number }>(`/v1/sessions/${started.session.id}/execute`, { command: 'echo first' }, { timeoutMs: 120_000 });
    expect(before.stdout).toBe('first\n');
    const { pid } = await client.get<HealthBody>('/v1/health');
    process.kill(pid, 'SIGKILL');
    await waitFor('the server to die', () => {
      try {
        process.kill(pid, 0);
        return Promise.resolve(undefined);
      } catch {
        return Promise.resolve(true);
      }
    });
    const listed = await cli('session', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect((await client.get<HealthBody>('/v1/health')).pid).not.toBe(pid);
    expect(listed.stdout).toMatch(new RegExp(`${started.session.id}\\s+active`));
    const after = await client.post<{ stdout: string }>(`/v1/sessions/${started.session.id}/execute`, { command: 'echo again' }, { timeoutMs: 120_000 });
    expect(after.stdout).toBe('again\n');
    const terminal = await client.get<{ text: string }>(`/v1/sessions/${started.session.id}/terminal`);
    expect(typeof terminal.text).toBe('string');
    const screen = await client.raw('GET', `/v1/sessions/${started.session.id}/screen`, undefined, { headers: { accept: 'image/png' } });
    expect(screen.contentType).toBe('image/png');
    expect(screen.bytes.subarray(1, 4).toString()).toBe('PNG');
    expect((await cli('session', 'stop', started.session.id)).code).toBe(0);
    const gc = await cli('session', 'gc');
    expect(gc.stdout).toMatch(/nothing to clean up/);
    expect((await ourContainers()).length).toBe(0);
  });
});
