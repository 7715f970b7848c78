import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraClient } from '../../src/client/nexora-client.js';
import { serverFiles } from '../../src/client/server-files.js';
import type { GitChangesReport } from '../../src/sessions/git-baselines.js';
import type { NeutralisedGitEntry } from '../../src/sessions/git-metadata.js';
import type { StartedSession } from '../../src/sessions/session-manager.js';
import type { SessionId } from '../../src/store/index.js';
import { eventually } from '../fixtures/eventually.js';
import { runCli } from '../fixtures/run-cli.js';
import { createSessionEnv, WORKSPACE_GID, WORKSPACE_UID, type SessionEnv } from '../fixtures/session-env.js';

/**
 * Issue 20, finding 2: the attacker is a process in a real workstation, and wins if the user's
 * next `git status` (or `git checkout`, `git log`) on the host runs a command it planted. Every
 * planted command would create a marker file in a host directory the workstation cannot see;
 * each test waits for the guard's `git-metadata-neutralised` event (never a sleep), runs host git
 * in the attacked directory, and asserts that the marker does not exist — during the session and
 * after its stop — and that host git still works (a commit made inside is visible on the host).
 * Each planted payload is also shown to be live: put back in a copy of the workspace, it runs.
 */
let world: SessionEnv;
let manager: Awaited<ReturnType<SessionEnv['open']>>['manager'];
let db: Awaited<ReturnType<SessionEnv['open']>>['db'];
let markers: string;
const sessions: StartedSession[] = [];

beforeAll(async () => {
  world = await createSessionEnv('gitatk');
  ({ manager, db } = await world.open());
  // On the host, outside every workspace: no workstation sees this directory.
  markers = mkdtempSync(join(tmpdir(), 'nexora-git-markers-'));
});

afterAll(async () => {
  for (const started of sessions) await manager?.stopContainer(started.session.id).catch(() => undefined);
  await world?.dispose();
  rmSync(markers, { recursive: true, force: true });
});

const marker = (name: string): string => join(markers, name);
const hostileConfig = (name: string): string => `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch ${marker(name)}\n`;
const hostileHook = (name: string): string => `#!/bin/sh\ntouch ${marker(name)}\n`;

const hostGit = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'safe.directory=*', '-c', 'user.name=host', '-c', 'user.email=host@example.com', '-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** What the user does in a directory: status (fsmonitor), log, and a checkout (post-checkout hook). */
function userRunsGit(dir: string, branch: string): void {
  hostGit(dir, 'status', '--short');
  hostGit(dir, 'log', '--oneline', '-1');
  hostGit(dir, 'checkout', '-q', '-b', branch);
}

function chownTree(path: string): void {
  chownSync(path, WORKSPACE_UID, WORKSPACE_GID);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name));
}

/** A workspace with one commit, owned by the workstation's user. */
function repository(name: string): string {
  const workspace = world.workspace(name);
  hostGit(workspace, 'init', '-q');
  writeFileSync(join(workspace, 'main.txt'), 'one\n');
  hostGit(workspace, 'add', 'main.txt');
  hostGit(workspace, 'commit', '-qm', 'first');
  chownTree(workspace);
  return workspace;
}

async function start(workspace: string, options: { usePool?: boolean } = {}): Promise<StartedSession> {
  const started = await manager.start({ workspaceDir: workspace, usePool: options.usePool ?? false });
  sessions.push(started);
  return started;
}

async function inside(started: StartedSession, command: string): Promise<string> {
  const result = await started.workstation.exec({ cmd: command, timeoutMs: 60_000 });
  expect(result.exitCode, `${command}\n${result.stdout}${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Waits for the guard's events to name every path (no fixed sleep): the entries neutralised. */
async function neutralisedEvents(sessionId: SessionId, paths: string[]): Promise<NeutralisedGitEntry[]> {
  const read = async (): Promise<NeutralisedGitEntry[]> =>
    (await manager.events.list(sessionId, { kinds: ['git-metadata-neutralised'] })).flatMap((event) => (event.payload as { neutralised: NeutralisedGitEntry[] }).neutralised);
  return eventually(read, (entries) => paths.every((path) => entries.some((entry) => entry.path === path)), `the guard neutralising ${paths.join(', ')}`, 20_000);
}

/**
 * The payloads were real: in a copy of the workspace with the neutralised files put back, the
 * same host git commands create the marker. (Without this, a typo in a payload would pass.)
 */
function provesArmed(workspace: string, entries: readonly NeutralisedGitEntry[], dirs: string[], name: string): void {
  const copy = mkdtempSync(join(tmpdir(), 'nexora-git-armed-'));
  try {
    cpSync(workspace, copy, { recursive: true, verbatimSymlinks: true });
    for (const entry of entries) {
      if (!existsSync(join(copy, entry.movedTo))) continue;
      renameSync(join(copy, entry.movedTo), join(copy, entry.path));
      // The guard cleared the execute bits as it moved a hook: the attacker had set them.
      if (entry.path.includes('/hooks/')) chmodSync(join(copy, entry.path), 0o755);
    }
    for (const dir of dirs) {
      try {
        userRunsGit(join(copy, dir), `armed-${Math.random().toString(36).slice(2, 8)}`);
      } catch {
        // A hostile commondir can make some commands fail after running the planted command.
      }
    }
    expect(existsSync(marker(name)), `the ${name} payload should run when put back`).toBe(true);
  } finally {
    rmSync(marker(name), { force: true });
    rmSync(copy, { recursive: true, force: true });
  }
}

function assertNotRun(dirs: string[], name: string, workspace: string): void {
  for (const dir of dirs) {
    try {
      userRunsGit(join(workspace, dir), `after-${Math.random().toString(36).slice(2, 8)}`);
    } catch (error) {
      throw new Error(`host git failed in ${dir || '.'}: ${String(error)}`);
    }
  }
  expect(existsSync(marker(name)), `host git ran the ${name} payload`).toBe(false);
  chownTree(workspace);
}

const agentCommit = (message: string): string => `echo more >> main.txt && git -c user.name=agent -c user.email=agent@example.com commit -qam '${message}'`;

describe('git metadata cannot make git on the host run a command', () => {
  it('(a) a commondir pointing at a copy of the repository whose config sets core.fsmonitor', async () => {
    const workspace = repository('commondir');
    const started = await start(workspace);
    await inside(
      started,
      [
        'mkdir -p .evil && cp -r .git/objects .git/refs .git/HEAD .evil/',
        `printf '${hostileConfig('commondir').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}' > .evil/config`,
        "printf '../.evil\\n' > .git/commondir",
      ].join(' && '),
    );
    const entries = await neutralisedEvents(started.session.id, ['.git/commondir']);
    assertNotRun([''], 'commondir', workspace);
    provesArmed(workspace, entries, [''], 'commondir');
    await inside(started, agentCommit('from the workstation'));
    expect(hostGit(workspace, 'log', '--format=%s')).toContain('from the workstation');
    const stopped = await manager.stopContainer(started.session.id);
    expect(stopped.git?.neutralised.map((entry) => entry.path)).toContain('.git/commondir');
    assertNotRun([''], 'commondir', workspace);
  });

  it('(b) a warm-pool member made before `git init`, then `git init` with a hostile config and hook inside', async () => {
    const workspace = world.workspace('pool-init');
    await manager.pool.fill({ workspaceDir: workspace, size: 1, idleTimeoutMs: 600_000 });
    const started = await start(workspace, { usePool: true });
    expect(started.fromPool).toBe(true);
    await inside(
      started,
      [
        'git init -q',
        'echo one > main.txt && git add main.txt && git -c user.name=agent -c user.email=agent@example.com commit -qm first-inside',
        `git config core.fsmonitor 'touch ${marker('pool-init')}'`,
        `printf '${hostileHook('pool-init').replace(/\n/g, '\\n')}' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout`,
      ].join(' && '),
    );
    const entries = await neutralisedEvents(started.session.id, ['.git/config', '.git/hooks/post-checkout']);
    assertNotRun([''], 'pool-init', workspace);
    provesArmed(workspace, entries, [''], 'pool-init');
    expect(hostGit(workspace, 'log', '--format=%s')).toContain('first-inside');
    await manager.stopContainer(started.session.id);
    assertNotRun([''], 'pool-init', workspace);
  });

  it('(b) a pool member whose workspace got a .git after it was warmed is not handed out', async () => {
    const workspace = world.workspace('pool-stale');
    await manager.pool.fill({ workspaceDir: workspace, size: 1, idleTimeoutMs: 600_000 });
    hostGit(workspace, 'init', '-q');
    writeFileSync(join(workspace, 'main.txt'), 'one\n');
    hostGit(workspace, 'add', 'main.txt');
    hostGit(workspace, 'commit', '-qm', 'first');
    chownTree(workspace);
    const started = await start(workspace, { usePool: true });
    expect(started.fromPool).toBe(false);
    const attempt = await started.workstation.exec({ cmd: `git config core.fsmonitor 'touch ${marker('pool-stale')}'`, timeoutMs: 20_000 });
    expect(attempt.exitCode).not.toBe(0);
    expect(await manager.pool.members()).toEqual([]);
    await manager.stopContainer(started.session.id);
    assertNotRun([''], 'pool-stale', workspace);
  });

  it('(b) nested repositories: `git init` and `git clone` (from a path inside) with hostile configs and hooks, at any depth', async () => {
    const workspace = repository('nested');
    const started = await start(workspace);
    await inside(
      started,
      [
        'git init -q deep/er/nested',
        `git -C deep/er/nested config core.fsmonitor 'touch ${marker('nested')}'`,
        'git clone -q /workspace cloned',
        `printf '${hostileHook('nested').replace(/\n/g, '\\n')}' > cloned/.git/hooks/post-checkout && chmod +x cloned/.git/hooks/post-checkout`,
        `git -C cloned config core.hooksPath .git/hooks`,
      ].join(' && '),
    );
    const paths = ['deep/er/nested/.git/config', 'cloned/.git/hooks/post-checkout', 'cloned/.git/config'];
    const entries = await neutralisedEvents(started.session.id, paths);
    assertNotRun(['', 'cloned'], 'nested', workspace);
    // An empty repository has no commit to log or check out: status is what a prompt runs there.
    hostGit(join(workspace, 'deep/er/nested'), 'status', '--short');
    expect(existsSync(marker('nested'))).toBe(false);
    provesArmed(workspace, entries, ['cloned'], 'nested');
    await inside(started, agentCommit('next to nested repositories'));
    expect(hostGit(workspace, 'log', '--format=%s')).toContain('next to nested repositories');
    await manager.stopContainer(started.session.id);
    assertNotRun(['', 'cloned'], 'nested', workspace);
  });

  it('a server that restarted under a live session guards it again, from the baseline kept in the home', async () => {
    const workspace = repository('restart');
    const { manager: before } = await world.open({ db });
    const started = await before.start({ workspaceDir: workspace, usePool: false });
    sessions.push(started);
    await eventually(() => before.gitChanges(started.session.id), (report) => report !== undefined, 'the baseline');
    // The first server goes away; the next one reconciles at its start, as `nexora serve` does.
    await before.closeGitGuards();
    const { manager: after } = await world.open({ db });
    expect((await after.reconcile()).adoptedSessions).toContain(started.session.id);
    await inside(started, `mkdir -p .evil && cp -r .git/objects .git/refs .git/HEAD .evil/ && printf '${hostileConfig('restart').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}' > .evil/config && printf '../.evil\\n' > .git/commondir`);
    await neutralisedEvents(started.session.id, ['.git/commondir']);
    assertNotRun([''], 'restart', workspace);
    await after.stopContainer(started.session.id);
    await after.closeGitGuards();
    assertNotRun([''], 'restart', workspace);
  });

  it('at the stop, without a live guard (a server that stopped watching), the stop itself neutralises', async () => {
    const workspace = repository('stop-only');
    // A manager of its own whose guards are closed from the start, as a server's are when it shuts down.
    const { manager: unguarded } = await world.open({ db });
    await unguarded.closeGitGuards();
    const started = await unguarded.start({ workspaceDir: workspace, usePool: false });
    sessions.push(started);
    // The baseline is taken in the background.
    await eventually(() => unguarded.gitChanges(started.session.id), (report) => report !== undefined, 'the baseline');
    await inside(started, `git init -q inner && printf '${hostileConfig('stop-only').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}' > inner/.git/config`);
    expect(await unguarded.events.list(started.session.id, { kinds: ['git-metadata-neutralised'] })).toEqual([]);
    const stopped = await unguarded.stopContainer(started.session.id);
    expect(stopped.git?.neutralised.map((entry) => entry.path)).toEqual(['inner/.git/config']);
    hostGit(join(workspace, 'inner'), 'status', '--short');
    expect(existsSync(marker('stop-only'))).toBe(false);
    const recorded = await unguarded.events.list(started.session.id, { kinds: ['git-metadata-changed'] });
    expect((recorded[0]?.payload as GitChangesReport | undefined)?.neutralised.map((entry) => entry.path)).toEqual(['inner/.git/config']);
  });
});

describe('(c) sessions driven and stopped through the API and the CLI get the same guard', () => {
  let env: NodeJS.ProcessEnv;
  let client: NexoraClient;

  beforeAll(() => {
    const home = join(dirname(world.home), 'server-home');
    const block = 40_000 + 100 * Math.floor(Math.random() * 50);
    env = {
      NEXORA_HOME: home,
      DATABASE_URL: '',
      NEXORA_WORKSTATION_IMAGE: world.image,
      NEXORA_VNC_PORTS: `${block}-${block + 9}`,
      NEXORA_CDP_PORTS: `${block + 5000}-${block + 5009}`,
      NEXORA_NETWORK_NAME: world.networkName,
      NEXORA_CONTAINER_PREFIX: world.namePrefix,
      NEXORA_CONTAINER_LABELS: Object.entries(world.labels).map(([key, value]) => `${key}=${value}`).join(','),
      CI: '1',
    };
    client = new NexoraClient({ socketPath: serverFiles({ home, logs: join(home, 'logs') }).socket });
  });

  afterAll(async () => {
    client?.close();
    await runCli(['server', 'stop'], { env, timeoutMs: 60_000 }).catch(() => undefined);
  });

  const cli = (...args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
  const startByCli = async (workspace: string): Promise<SessionId> => {
    const started = await cli('session', 'start', '--workspace', workspace, '--json', '--no-pool');
    expect(started.code, started.stderr).toBe(0);
    return (JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as { session: SessionId }).session;
  };
  const execute = async (sessionId: SessionId, command: string): Promise<void> => {
    const result = await client.post<{ exitCode: number; stdout: string; stderr: string }>(`/v1/sessions/${sessionId}/execute`, { command, timeoutMs: 60_000 }, { timeoutMs: 90_000 });
    expect(result.exitCode, `${command}\n${result.stdout}${result.stderr}`).toBe(0);
  };
  const apiNeutralised = (sessionId: SessionId, path: string): Promise<unknown> =>
    eventually(
      async () => (await client.get<{ events: { kind: string; payload: { neutralised?: NeutralisedGitEntry[] } }[] }>(`/v1/sessions/${sessionId}/events`)).events,
      (events) => events.some((event) => event.kind === 'git-metadata-neutralised' && (event.payload.neutralised ?? []).some((entry) => entry.path === path)),
      `the server's guard neutralising ${path}`,
      20_000,
    );

  it('API: a commondir attack during the session is neutralised, and the stop answers with what was', async () => {
    const workspace = repository('api');
    const sessionId = await startByCli(workspace);
    await execute(sessionId, `mkdir -p .evil && cp -r .git/objects .git/refs .git/HEAD .evil/ && printf '${hostileConfig('api').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}' > .evil/config && printf '../.evil\\n' > .git/commondir`);
    await apiNeutralised(sessionId, '.git/commondir');
    assertNotRun([''], 'api', workspace);
    await execute(sessionId, agentCommit('through the API'));
    expect(hostGit(workspace, 'log', '--format=%s')).toContain('through the API');
    const reply = await client.post<{ git: GitChangesReport | null }>(`/v1/sessions/${sessionId}/stop`, {}, { timeoutMs: 120_000 });
    expect(reply.git?.neutralised.map((entry) => entry.path)).toContain('.git/commondir');
    assertNotRun([''], 'api', workspace);
  });

  it('CLI: `nexora session start`, a nested repository with a hostile hook, `nexora session stop` says what it moved aside', async () => {
    const workspace = repository('cli');
    const sessionId = await startByCli(workspace);
    await execute(
      sessionId,
      `d=$'sub\\e[2Jdir' && git clone -q /workspace "$d" && printf '${hostileHook('cli').replace(/\n/g, '\\n')}' > "$d/.git/hooks/post-checkout" && chmod +x "$d/.git/hooks/post-checkout"`,
    );
    await apiNeutralised(sessionId, 'sub\u001b[2Jdir/.git/hooks/post-checkout');
    const stopped = await cli('session', 'stop', sessionId);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('neutralised     sub␛[2Jdir/.git/hooks/post-checkout — a git hook: git on the host would run it');
    expect(stopped.stdout).not.toContain('\u001b');
    assertNotRun(['', 'sub\u001b[2Jdir'], 'cli', workspace);
  });
});
