import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nexora, NexoraError, type RunEvent } from '../src/sdk/index.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage } from './fixtures/session-env.js';
import { ScriptedModelServer } from './model-server/server.js';

// The SDK as a program uses it: the example in examples/ run as a user runs it (importing
// `nexora` from the built package, starting the server itself), then runs with their events
// and the SDK's errors against that server.

const checkout = fileURLToPath(new URL('..', import.meta.url));
const runId = `sdk-${randomBytes(3).toString('hex')}`;
const docker = createDockerClient();
let root: string;
let workspace: string;
let env: Record<string, string>;
let model: ScriptedModelServer | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  // uid 1000, the image's user: the run's commands write in HOME.
  chownSync(workspace, 1000, 1000);
  const block = 30_000 + 200 * Math.floor(Math.random() * 25);
  env = {
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_WORKSTATION_IMAGE: await testImage(docker),
    NEXORA_VNC_PORTS: `${block}-${block + 49}`,
    NEXORA_CDP_PORTS: `${block + 10_000}-${block + 10_049}`,
    NEXORA_NETWORK_NAME: `nexora-net-${runId}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_START_TIMEOUT: '300',
    CI: '1',
  };
});

afterAll(async () => {
  await runCli(['server', 'stop'], { env, timeoutMs: 120_000 }).catch(() => undefined);
  await model?.close();
  for (const container of await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await docker.getNetwork(`nexora-net-${runId}`).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 180_000);

/**
 * This test runs the SDK from src/ while the server runs dist/: connect by address, which
 * skips the build check a client of the home's socket makes (they are different builds).
 */
function connectHere(): Promise<Nexora> {
  const home = env.NEXORA_HOME ?? '';
  return Nexora.connect({ env, address: { socketPath: serverFiles({ home, logs: join(home, 'logs') }).socket } });
}

function runExample(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The example imports 'nexora' as a user's code does: tsx with a tsconfig of its own (no
  // path mapping), so Node resolves the package by its exports, i.e. the built dist/.
  const tsconfig = join(root, 'tsconfig.example.json');
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true } }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(checkout, 'examples', 'sdk-session.ts'), workspace], {
      cwd: checkout,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: tsconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 500_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the TypeScript SDK', () => {
  it('examples/sdk-session.ts runs end to end on a home with no server', { timeout: 600_000 }, async () => {
    const result = await runExample();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const sessionId = /session (ses_[A-Za-z0-9_-]+) started/.exec(result.stdout)?.[1];
    expect(sessionId, result.stdout).toBeDefined();
    expect(result.stdout).toMatch(/keyboard: \d+ keys, wait ended by input/);
    expect(result.stdout).toMatch(/screen: 1280x800, \d{4,} bytes of PNG; terminal says: hello from \S+/);
    expect(result.stdout).toMatch(/execute: exit 0 in \d+ ms: git version \d/);
    expect(result.stdout).toContain('an empty command is refused: invalid-argument');
    expect(result.stdout).toContain('sessions running: 1');
    expect(result.stdout).toContain(`session ${sessionId} ended`);
    expect(await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`, `dev.nexora.session=${sessionId}`] } })).toEqual([]);
  });

  it('errors are NexoraErrors with codes; calls honour signal and timeoutMs', { timeout: 120_000 }, async () => {
    const nx = await connectHere();
    try {
      const missing = await nx.sessions.get('ses_nosuchsession').catch((error: unknown) => error);
      expect(NexoraError.is(missing, 'session-not-found')).toBe(true);
      const unsafe = await nx.sessions.start({ workspace: '/' }).catch((error: unknown) => error);
      expect(NexoraError.is(unsafe, 'unsafe-workspace')).toBe(true);
      const relative = await nx.sessions.start({ workspace: 'relative/dir' }).catch((error: unknown) => error);
      expect(NexoraError.is(relative, 'invalid-argument')).toBe(true);
      const controller = new AbortController();
      controller.abort();
      const aborted = await nx.sessions.list({ signal: controller.signal }).catch((error: unknown) => error);
      expect(NexoraError.is(aborted, 'aborted')).toBe(true);
      const badTimeout = await nx.sessions.list({ timeoutMs: -5 }).catch((error: unknown) => error);
      expect(NexoraError.is(badTimeout, 'invalid-argument')).toBe(true);
    } finally {
      nx.close();
    }
    const noServer = await Nexora.connect({ env: { ...env, NEXORA_HOME: join(root, 'empty-home') }, autoStart: false }).catch((error: unknown) => error);
    expect(NexoraError.is(noServer, 'server-unavailable')).toBe(true);
  });

  it('runs: an async iterator of typed events ending with the outcome', { timeout: 600_000 }, async () => {
    const apiKey = 'scripted-key-0123456789';
    model = await ScriptedModelServer.start({
      apiKey,
      script: {
        name: 'sdk-run',
        requireTools: ['execute'],
        turns: [
          { respond: { toolCalls: [{ name: 'execute', input: { command: 'echo sdk-run-$((20+1))' } }] } },
          { expect: { toolResultIncludes: ['sdk-run-21'] }, respond: { text: 'Printed it.' } },
        ],
      },
    });
    writeFileSync(
      join(env.NEXORA_HOME ?? '', 'config.json'),
      JSON.stringify({
        model: 'scripted/model-under-test',
        providers: { scripted: { kind: 'openai', api: 'chat', baseUrl: model.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
        models: { 'scripted/model-under-test': { capabilities: { tools: true, vision: false, imagesInToolResults: false, contextTokens: 100_000 }, prices: { input: 1, output: 1, cachedInput: 0.1 } } },
        retry: { maxRetries: 1, initialDelayMs: 100, maxDelayMs: 1000 },
      }),
    );
    const nx = await connectHere();
    try {
      const run = nx.runs.start({ task: 'print sdk-run-21', workspace, env: { SCRIPTED_API_KEY: apiKey }, timeoutMs: 500_000 });
      const events: RunEvent[] = [];
      for await (const event of run) events.push(event);
      expect(events[0]?.type, JSON.stringify(events)).toBe('run');
      expect(run.id).toMatch(/^run_/);
      const end = events.at(-1);
      expect(end?.type, JSON.stringify(events.slice(-3))).toBe('end');
      // A finished run's workstation is paused and kept for --continue, not stopped.
      expect(end).toMatchObject({ type: 'end', outcome: 'completed', sessionStopped: false });
      // The scripted model checks that the execute result it got says sdk-run-21: "completed" proves it.
      expect(events.some((event) => event.type === 'output')).toBe(true);
      await expect(run.done).resolves.toMatchObject({ outcome: 'completed' });
      // An invalid run: the iteration and `done` reject with the server's code.
      const invalid = nx.runs.start({ task: '   ', workspace });
      const iterated = await (async () => {
        for await (const event of invalid) throw new Error(`unexpected event ${event.type}`);
      })().catch((error: unknown) => error);
      expect(NexoraError.is(iterated, 'invalid-argument'), String(iterated)).toBe(true);
      const failure = await invalid.done.catch((error: unknown) => error);
      expect(NexoraError.is(failure, 'invalid-argument')).toBe(true);
    } finally {
      nx.close();
    }
  });
});
