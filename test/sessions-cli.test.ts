import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { cliPath, runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';

// The session and pool commands as a user runs them (the built CLI, `npm test` builds it),
// on their own NEXORA_HOME, labels, names and ports.

const runId = `cli-${randomBytes(3).toString('hex')}`;
const docker = createDockerClient();
let root: string;
let workspace: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  const block = 30_000 + 100 * Math.floor(Math.random() * 50);
  env = {
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_WORKSTATION_IMAGE: await testImage(docker),
    NEXORA_VNC_PORTS: `${block}-${block + 9}`,
    NEXORA_CDP_PORTS: `${block + 5000}-${block + 5009}`,
    NEXORA_NETWORK_NAME: `nexora-w4-net-${runId}`,
    NEXORA_CONTAINER_PREFIX: `nexora-w4-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    CI: '1',
  };
});

afterAll(async () => {
  await runCli(['server', 'stop'], { env, timeoutMs: 60_000 }).catch(() => undefined);
  for (const container of await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await docker.getNetwork(`nexora-w4-net-${runId}`).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { env, timeoutMs: 120_000 });

describe('nexora session / pool', () => {
  it('start, list, info (password hidden unless asked), stop, gc; pool warm, status, claim, drain', async () => {
    const started = await cli('session', 'start', '--workspace', workspace, '--json', '--no-pool');
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toMatch(/starting the session/);
    const info = JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as { session: string; vncPort: number; ready: boolean };
    expect(info.ready).toBe(true);

    const list = await cli('session', 'list');
    expect(list.stdout).toMatch(new RegExp(`${info.session}\\s+active\\s+\\S+.*${info.vncPort}/\\d+\\s+${workspace}`));

    const shown = await cli('session', 'info', info.session);
    expect(shown.stdout).toMatch(new RegExp(`VNC\\s+vnc://127\\.0\\.0\\.1:${info.vncPort}`));
    expect(shown.stdout).toMatch(/password\s+•{8} \(--show-password prints it\)/);
    const revealed = await cli('session', 'info', info.session, '--show-password');
    expect(revealed.stdout).toMatch(/password\s+[A-Za-z0-9]{8}\n/);

    const bad = await cli('session', 'info', 'not a session id');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a session id/);

    const stopped = await cli('session', 'stop', info.session);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await cli('session', 'list', '--all')).stdout).toMatch(new RegExp(`${info.session}\\s+ended`));

    const warmed = await cli('pool', 'warm', '--workspace', workspace, '--size', '1');
    expect(warmed.code, warmed.stderr).toBe(0);
    expect((await cli('pool', 'status')).stdout).toMatch(/ready \(paused\)/);
    const claimed = await cli('session', 'start', '--workspace', workspace);
    expect(claimed.stderr).toMatch(/from the warm pool/);
    const claimedId = /session\s+(\S+)/.exec(claimed.stdout)?.[1] ?? '';
    await cli('pool', 'warm', '--workspace', workspace, '--size', '1');
    const drained = await cli('pool', 'drain');
    expect(drained.stdout).toMatch(/removed 1 pooled workstation/);
    expect((await cli('session', 'rm', claimedId)).code).toBe(0);

    const gc = await cli('session', 'gc');
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/nothing to clean up/);
    expect(await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } })).toEqual([]);
  });

  it('session devtools: the browser on 127.0.0.1 behind a token until Ctrl+C (or the command dies), then gone', async () => {
    const started = await cli('session', 'start', '--workspace', workspace, '--json', '--no-pool');
    expect(started.code, started.stderr).toBe(0);
    const { session } = JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as { session: string };
    const first = await devtools(session);
    try {
      const version = await fetch(`${first.url}/json/version`);
      expect(version.status).toBe(200);
      expect(((await version.json()) as { Browser: string }).Browser).toMatch(/Chrome/);
      const anonymous = await fetch(`${new URL(first.url).origin}/json/version`);
      expect(anonymous.status).toBe(401);
    } finally {
      first.child.kill('SIGINT');
    }
    expect((await first.exited).code).toBe(0);
    // Ctrl+C took the endpoint away: nothing answers there any more.
    await expect(fetch(`${first.url}/json/version`)).rejects.toThrow();

    // A command killed outright: the server notices the closed request and stops serving.
    const second = await devtools(session);
    expect((await fetch(`${second.url}/json/version`)).status).toBe(200);
    second.child.kill('SIGKILL');
    await second.exited;
    await waitUntil(async () => fetch(`${second.url}/json/version`).then(() => false, () => true), 'the DevTools of a killed command to stop answering');
    expect((await cli('session', 'info', session)).stdout).not.toContain(new URL(second.url).port);
    expect((await cli('session', 'stop', session)).code).toBe(0);
  });
});

/** `nexora session devtools ID` running, with the URL it printed. */
async function devtools(session: string): Promise<{ url: string; child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> }> {
  const child = spawn(process.execPath, [cliPath, 'session', 'devtools', session], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /targets:\s+(http:\/\/127\.0\.0\.1:\d+\/\S+)\/json\/list/.exec(stdout);
      if (found?.[1]) resolve(found[1]);
    });
    void exited.then(({ code }) => reject(new Error(`nexora session devtools exited (${code}) before serving: ${stderr}`)));
  });
  return { url, child, exited };
}

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
