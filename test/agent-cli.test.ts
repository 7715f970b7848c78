import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/run-cli.js';

/** `nexora run` and `nexora config show` as a user runs them: the built CLI in a child process. */
const root = mkdtempSync(join(tmpdir(), 'nexora-agent-cli-'));
const home = join(root, 'home');
const workspace = join(root, 'workspace');
mkdirSync(workspace);

afterAll(() => {
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
    expect(steps.code).toBe(1);
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

  it('fails on an unknown field, naming it and the file', async () => {
    writeFileSync(join(workspace, 'nexora.json'), JSON.stringify({ agent: { maxStep: 3 } }));
    const result = await runCli(['config', 'show', '--workspace', workspace], { env: bareEnv(), timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Invalid configuration in ${join(workspace, 'nexora.json')}: unknown field "agent.maxStep"`);
  });
});
