import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { cliPath, runCli } from './fixtures/run-cli.js';
import { testImage } from './fixtures/session-env.js';
import type { ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';

/** `nexora run` and `nexora config show` as a user runs them: the built CLI in a child process. */
const root = mkdtempSync(join(tmpdir(), 'nexora-agent-cli-'));
const home = join(root, 'home');
const workspace = join(root, 'workspace');
mkdirSync(workspace);

const runId = `agentcli-${randomBytes(3).toString('hex')}`;
const servers: ScriptedModelServer[] = [];
const homes: NodeJS.ProcessEnv[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await Promise.all([bareEnv(), ...homes].map((env) => runCli(['server', 'stop'], { env, timeoutMs: 60_000 }).catch(() => undefined)));
  // The runs' containers carry this run's label (NEXORA_CONTAINER_LABELS): remove them all.
  const docker = createDockerClient();
  const leftovers = await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } });
  for (const container of leftovers) await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  const networks = await docker.listNetworks({ filters: { label: [`dev.nexora.testrun=${runId}`] } }).catch(() => []);
  for (const network of networks) await docker.getNetwork(network.Id).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

/** An environment with no provider key at all. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXORA_HOME: home, DATABASE_URL: '', ...extra };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'XAI_API_KEY', 'MISTRAL_API_KEY', 'GROQ_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

describe('nexora run (CLI)', () => {
  it('says exactly how to add a key when no provider is usable, before starting anything', async () => {
    const result = await runCli(['run', 'fix the bug', '--workspace', workspace], { env: bareEnv(), timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No model provider is usable');
    expect(result.stderr).toContain('nexora keys add anthropic');
    expect(result.stderr).toContain('export ANTHROPIC_API_KEY=');
    expect(result.stderr).toContain('"baseUrl": "http://localhost:11434/v1"');
  });

  it('rejects bad flags naming the flag', async () => {
    const steps = await runCli(['run', 'x', '--max-steps', 'lots'], { env: bareEnv(), timeoutMs: 60_000 });
    // A bad value is a usage error: exit 2, as for an unknown option.
    expect(steps.code).toBe(2);
    expect(steps.stderr).toMatch(/Invalid --max-steps/);
    const cost = await runCli(['run', 'x', '--max-cost', '-1'], { env: bareEnv(), timeoutMs: 60_000 });
    expect(cost.stderr).toMatch(/Invalid --max-cost/);
    const model = await runCli(['run', 'x', '--model', 'gpt-4o'], { env: bareEnv(), timeoutMs: 60_000 });
    expect(model.stderr).toMatch(/Invalid --model: write provider\/model/);
    const empty = await runCli(['run', '   '], { env: bareEnv(), timeoutMs: 60_000 });
    expect(empty.stderr).toMatch(/Invalid task: the task is empty/);
  });

  it('names the unknown model of an explicit --model whose provider has no key', async () => {
    const result = await runCli(['run', 'x', '--workspace', workspace, '--model', 'groq/llama-3.3-70b-versatile'], { env: bareEnv(), timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No API key for groq: run `nexora keys add groq` (stored encrypted) or export GROQ_API_KEY=…');
  });
});

describe('nexora config show (CLI)', () => {
  it('prints the merged config with secrets masked and where keys come from', async () => {
    writeFileSync(join(workspace, 'nexora.json'), JSON.stringify({ providers: { local: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-local-secret-abcd1234' } } }));
    // An endpoint and a key in a workspace file count only once the user trusts that file.
    const untrusted = await runCli(['config', 'show', '--workspace', workspace, '--json'], { env: bareEnv(), timeoutMs: 60_000 });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('"providers.local.baseUrl"');
    expect(untrusted.stderr).toContain(`nexora trust --workspace ${workspace}`);
    expect(untrusted.stderr).not.toContain('sk-local-secret');
    const trusted = await runCli(['trust', '--workspace', workspace], { env: bareEnv(), timeoutMs: 60_000 });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).toContain('providers.local.baseUrl = "http://127.0.0.1:9/v1"');
    expect(trusted.stdout).not.toContain('sk-local-secret');
    const result = await runCli(['config', 'show', '--workspace', workspace, '--json'], {
      env: bareEnv({ OPENAI_API_KEY: 'sk-env-secret-wxyz9876' }),
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('sk-local-secret');
    expect(result.stdout).not.toContain('sk-env-secret');
    const shown = JSON.parse(result.stdout) as { sources: string[]; config: { providers: { local: { apiKey: string } } }; keys: Record<string, string> };
    expect(shown.sources).toEqual([join(workspace, 'nexora.json')]);
    expect(shown.config.providers.local.apiKey).toBe('…1234');
    expect(shown.keys.openai).toBe('env …9876');
    expect(shown.keys.local).toBe('config …1234');
    expect(shown.keys.anthropic).toMatch(/^none \(export ANTHROPIC_API_KEY/);
  });

  it('shows a key stored in the encrypted store as coming from the store', async () => {
    const stored = await runCli(['keys', 'set', 'mistral'], { env: bareEnv(), input: 'mistral-stored-key-5555\n', timeoutMs: 60_000 });
    expect(stored.code, stored.stderr).toBe(0);
    const result = await runCli(['config', 'show', '--workspace', workspace, '--json'], { env: bareEnv(), timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('mistral-stored-key');
    expect((JSON.parse(result.stdout) as { keys: Record<string, string> }).keys.mistral).toBe('store …5555');
  });

  it('fails on an unknown field, naming it and the file', async () => {
    writeFileSync(join(workspace, 'nexora.json'), JSON.stringify({ agent: { maxStep: 3 } }));
    const result = await runCli(['config', 'show', '--workspace', workspace], { env: bareEnv(), timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Invalid configuration in ${join(workspace, 'nexora.json')}: unknown field "agent.maxStep"`);
  });
});

/** A workspace and a scripted provider for a real `nexora run` in a child process. */
async function runSetUp(script: ModelScriptInput): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const server = await ScriptedModelServer.start({ script, apiKey: 'cli-key-0123456789' });
  servers.push(server);
  const dir = mkdtempSync(join(root, 'run-'));
  chownSync(dir, 1000, 1000);
  writeFileSync(
    join(dir, 'nexora.json'),
    JSON.stringify({
      model: 'scripted/m',
      providers: { scripted: { kind: 'anthropic', baseUrl: server.anthropicBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
      models: { 'scripted/m': { capabilities: { vision: true }, prices: { input: 3, output: 15, cachedInput: 0.3 } } },
    }),
  );
  const env = bareEnv({
    // Its own home (outside the mounted workspace), so that its own server, started below with this
    // environment's image and labels, runs it.
    NEXORA_HOME: `${dir}-home`,
    SCRIPTED_API_KEY: 'cli-key-0123456789',
    NEXORA_WORKSTATION_IMAGE: await testImage(createDockerClient()),
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
  });
  // The file names an endpoint and a key variable: the user trusts it, as they would their own project's.
  const trusted = await runCli(['trust', '--workspace', dir], { env, timeoutMs: 60_000 });
  if (trusted.code !== 0) throw new Error(`nexora trust failed: ${trusted.stderr}`);
  // The run is a client of the server; started here so the run's own output is all there is.
  const started = await runCli(['server', 'start'], { env, timeoutMs: 120_000 });
  if (started.code !== 0) throw new Error(`nexora server start failed: ${started.stderr}`);
  homes.push(env);
  return { dir, env };
}

describe('nexora run (CLI) on a real workstation', () => {
  it('streams a readable log, prints the summary and exits 0', async () => {
    const { dir, env } = await runSetUp({
      name: 'short',
      turns: [
        { respond: { text: 'Looking first.', toolCalls: [{ name: 'screen', input: {} }] } },
        { expect: { imageAttached: true, toolResultIncludes: ['Terminal text'] }, respond: { text: 'All good here.' } },
      ],
    });
    const result = await runCli(['run', 'look at the screen', '--workspace', dir], { env, timeoutMs: 170_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/step 1 · scripted\/m/);
    expect(result.stdout).toContain('Looking first.');
    expect(result.stdout).toMatch(/→ screen \{\}\n {4}✓ first look \[screenshot\]/);
    expect(result.stdout).toMatch(/✓ completed: The model reported the task done\./);
    expect(result.stdout).toMatch(/2 steps in [\d.]+ (ms|s); 200 in, 40 out; cost \$0\.0012/);
    // Kept paused for --continue (see test/run-lifecycle.test.ts for every outcome).
    expect(result.stdout).toMatch(/session \S+ paused until \d\d:\d\d, then removed/);
  });

  it('stops cleanly on Ctrl+C (SIGINT), exits 130 and keeps the session for a resume', async () => {
    const { dir, env } = await runSetUp({
      name: 'long',
      turns: [{ respond: { toolCalls: [{ name: 'execute', input: { command: 'sleep 300' } }] } }, { respond: { text: 'never' } }],
    });
    const child = spawn(process.execPath, [cliPath, 'run', 'wait a long time', '--workspace', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let interruptedAt = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!interruptedAt && stdout.includes('→ execute')) {
        interruptedAt = performance.now();
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    const code = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(130);
    expect(performance.now() - interruptedAt).toBeLessThan(15_000);
    expect(stdout).toContain('interrupting: finishing the current step cleanly');
    expect(stdout).toMatch(/✗ interrupted: Interrupted by the user\./);
    expect(stdout).toMatch(/session \S+ paused until \d\d:\d\d, then removed: carry on with `nexora run --continue "…"`/);
  });
});
