import { spawn } from 'node:child_process';
import { chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { cliRun } from './fixtures/cli-run.js';
import { eventually } from './fixtures/eventually.js';
import { cliPath, runCli } from './fixtures/run-cli.js';
import type { ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';

/**
 * One lifecycle for every way a run ends: the workstation is paused and kept until a time shown
 * by `session list`, then the server's sweep stops and removes it; `--rm` removes it at once,
 * `--keep` leaves it running. Real runs of the built CLI on real workstations, a scripted model.
 */
const suite = cliRun('lifecycle');
const docker = createDockerClient();
const servers: ScriptedModelServer[] = [];
let env: NodeJS.ProcessEnv;
/** Sessions parked by the tests above, for the last one to look at again. */
const parked: string[] = [];

interface ListedSession {
  id: string;
  status: string;
  containerState?: string | null;
  keptUntil?: string | null;
}

beforeAll(async () => {
  env = await suite.env(join(suite.root, 'home'), { SCRIPTED_API_KEY: 'cli-key-0123456789' });
  const started = await runCli(['server', 'start'], { env, timeoutMs: 120_000 });
  if (started.code !== 0) throw new Error(`nexora server start failed: ${started.stderr}`);
}, 150_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await suite.cleanUp();
}, 120_000);

/** A trusted workspace whose config names a scripted model playing `script`. */
async function workspaceFor(script: ModelScriptInput): Promise<string> {
  const server = await ScriptedModelServer.start({ script, apiKey: 'cli-key-0123456789' });
  servers.push(server);
  const dir = mkdtempSync(join(suite.root, 'run-'));
  chownSync(dir, 1000, 1000);
  writeFileSync(
    join(dir, 'nexora.json'),
    JSON.stringify({
      model: 'scripted/m',
      providers: { scripted: { kind: 'anthropic', baseUrl: server.anthropicBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
      models: { 'scripted/m': { capabilities: { vision: true }, prices: { input: 3, output: 15, cachedInput: 0.3 } } },
    }),
  );
  const trusted = await runCli(['trust', '--workspace', dir], { env, timeoutMs: 60_000 });
  if (trusted.code !== 0) throw new Error(`nexora trust failed: ${trusted.stderr}`);
  return dir;
}

const short: ModelScriptInput = {
  name: 'short',
  turns: [{ respond: { text: 'Looking.', toolCalls: [{ name: 'screen', input: {} }] } }, { respond: { text: 'Done.' } }],
};

async function listed(sessionId: string): Promise<ListedSession | undefined> {
  const result = await runCli(['session', 'list', '--all', '--json'], { env, timeoutMs: 60_000 });
  expect(result.stderr).toBe('');
  return (JSON.parse(result.stdout) as ListedSession[]).find((session) => session.id === sessionId);
}

/** The engine's own view of the session's container: its state, or undefined when there is none. */
async function engineState(sessionId: string): Promise<string | undefined> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${suite.runId}`] } });
  return containers.find((container) => Object.values(container.Labels).includes(sessionId))?.State;
}

function sessionOf(stdout: string): string {
  const id = /session (\S+) \(/.exec(stdout)?.[1];
  if (!id) throw new Error(`no session id in:\n${stdout}`);
  return id;
}

/** Asserts the documented parked state: active, paused in the engine, kept until a time ahead. */
async function expectParked(sessionId: string, stdout: string): Promise<void> {
  expect(stdout).toMatch(new RegExp(`session ${sessionId} paused until \\d\\d:\\d\\d, then removed: carry on with \`nexora run --continue`));
  const session = await listed(sessionId);
  expect(session).toMatchObject({ status: 'active', containerState: 'paused' });
  expect(Date.parse(session?.keptUntil ?? '')).toBeGreaterThan(Date.now() + 60_000);
  expect(await engineState(sessionId)).toBe('paused');
  const table = await runCli(['session', 'list'], { env, timeoutMs: 60_000 });
  expect(table.stdout).toMatch(new RegExp(`${sessionId}\\s+active \\(paused until \\d\\d:\\d\\d\\)`));
  parked.push(sessionId);
}

describe('every run outcome parks its workstation', () => {
  it('completed: paused and kept, then --continue resumes the same workstation', async () => {
    const dir = await workspaceFor({
      name: 'twice',
      turns: [
        { respond: { text: 'Looking.', toolCalls: [{ name: 'screen', input: {} }] } },
        { respond: { text: 'Done.' } },
        { expect: { historyIncludes: ['Done.'] }, respond: { text: 'Again.', toolCalls: [{ name: 'screen', input: {} }] } },
        { respond: { text: 'Done again.' } },
      ],
    });
    const first = await runCli(['run', 'look', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const sessionId = sessionOf(first.stdout);
    await expectParked(sessionId, first.stdout);
    const again = await runCli(['run', 'look again', '--continue', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('its workstation resumed');
    expect(sessionOf(again.stdout)).toBe(sessionId);
    await expectParked(sessionId, again.stdout);
  });

  it('failed: paused and kept', async () => {
    const dir = await workspaceFor({ name: 'fail', turns: [{ fault: { status: 400, message: 'bad request' } }] });
    const result = await runCli(['run', 'fail', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(result.stdout).toMatch(/✗ failed/);
    await expectParked(sessionOf(result.stdout), result.stdout);
  });

  it('max steps: paused and kept', async () => {
    const dir = await workspaceFor(short);
    const result = await runCli(['run', 'look', '--max-steps', '1', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(result.stdout).toMatch(/✗ max-steps/);
    await expectParked(sessionOf(result.stdout), result.stdout);
  });

  it('a parked workstation is taken up by the next tool call at any door (here the API), and kept no longer', async () => {
    const dir = await workspaceFor(short);
    const result = await runCli(['run', 'look', '--workspace', dir], { env, timeoutMs: 170_000 });
    const sessionId = sessionOf(result.stdout);
    await expectParked(sessionId, result.stdout);
    parked.splice(parked.indexOf(sessionId), 1);
    const home = env.NEXORA_HOME ?? '';
    const client = new NexoraClient({ socketPath: serverFiles({ home, logs: join(home, 'logs') }).socket });
    try {
      const answer = await client.post<{ stdout: string; exitCode: number }>(`/v1/sessions/${sessionId}/execute`, { command: 'echo taken-up' }, { timeoutMs: 120_000 });
      expect(answer).toMatchObject({ exitCode: 0, stdout: 'taken-up\n' });
    } finally {
      client.close();
    }
    expect(await engineState(sessionId)).toBe('running');
    expect(await listed(sessionId)).toMatchObject({ status: 'active', keptUntil: null });
  });

  it('interrupted (Ctrl+C): paused and kept', async () => {
    const dir = await workspaceFor({ name: 'long', turns: [{ respond: { toolCalls: [{ name: 'execute', input: { command: 'sleep 300' } }] } }, { respond: { text: 'never' } }] });
    const child = spawn(process.execPath, [cliPath, 'run', 'wait', '--workspace', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const before = stdout;
      stdout += chunk;
      if (!before.includes('→ execute') && stdout.includes('→ execute')) setTimeout(() => child.kill('SIGINT'), 300);
    });
    expect(await exited).toBe(130);
    expect(stdout).toMatch(/✗ interrupted/);
    await expectParked(sessionOf(stdout), stdout);
  });
});

describe('--rm, --keep and the idle time', () => {
  it('--rm stops and removes the workstation as the run ends', async () => {
    const dir = await workspaceFor(short);
    const result = await runCli(['run', 'look', '--rm', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(result.code).toBe(0);
    const sessionId = sessionOf(result.stdout);
    expect(result.stdout).toContain(`session ${sessionId} ended (--rm)`);
    expect((await listed(sessionId))?.status).toBe('ended');
    expect(await engineState(sessionId)).toBeUndefined();
  });

  it('--keep leaves the workstation running; --keep with --rm is refused', async () => {
    const both = await runCli(['run', 'x', '--keep', '--rm'], { env, timeoutMs: 60_000 });
    expect(both.stderr).toContain('Use one of --keep and --rm');
    const dir = await workspaceFor(short);
    const result = await runCli(['run', 'look', '--keep', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(result.code).toBe(0);
    const sessionId = sessionOf(result.stdout);
    expect(result.stdout).toContain(`session ${sessionId} is still running (--keep)`);
    expect(await listed(sessionId)).toMatchObject({ status: 'active', containerState: 'running', keptUntil: null });
    expect(await engineState(sessionId)).toBe('running');
    await runCli(['session', 'stop', sessionId], { env, timeoutMs: 60_000 });
  });

  it('after the idle time the server stops and removes a parked workstation', async () => {
    const dir = await workspaceFor(short);
    const result = await runCli(['run', 'look', '--workspace', dir], { env: { ...env, NEXORA_KEEP_IDLE_SECONDS: '2' }, timeoutMs: 170_000 });
    expect(result.code).toBe(0);
    const sessionId = sessionOf(result.stdout);
    expect(result.stdout).toContain(`session ${sessionId} paused until`);
    // The sweep runs every 5 s: wait for its effect, the session over and its container gone.
    await eventually(() => listed(sessionId), (session) => session?.status === 'ended', 'the parked session to end', 30_000);
    await eventually(() => engineState(sessionId), (state) => state === undefined, 'its container to be removed', 10_000);
  });

  it('a bad NEXORA_KEEP_IDLE_SECONDS is refused with a one-line error', async () => {
    const dir = await workspaceFor(short);
    const result = await runCli(['run', 'look', '--workspace', dir], { env: { ...env, NEXORA_KEEP_IDLE_SECONDS: 'soon' }, timeoutMs: 170_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('NEXORA_KEEP_IDLE_SECONDS is "soon": set it to a number of seconds');
  });

  it('a reconciliation and the health monitor leave parked workstations paused', async () => {
    expect(parked.length).toBeGreaterThanOrEqual(4);
    const gc = await runCli(['session', 'gc'], { env, timeoutMs: 120_000 });
    expect(gc.code, gc.stderr).toBe(0);
    // The server's health sweeps have run all along (the earliest was parked a minute or more ago).
    for (const sessionId of parked) {
      expect(await listed(sessionId)).toMatchObject({ status: 'active', containerState: 'paused' });
      expect(await engineState(sessionId)).toBe('paused');
    }
  });
});
