import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/run-cli.js';
import { ScriptedModelServer } from './model-server/server.js';

/** `nexora init` as a user runs it: the built CLI, a real store, and the scripted model server. */
const root = mkdtempSync(join(tmpdir(), 'nexora-init-'));
const home = join(root, 'home');
mkdirSync(home);
const servers: ScriptedModelServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  rmSync(root, { recursive: true, force: true });
});

function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXORA_HOME: home, DATABASE_URL: '', ...extra };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'XAI_API_KEY', 'MISTRAL_API_KEY', 'GROQ_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

/** A small TypeScript project with an npm test script. */
function project(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `demo-${name}`, scripts: { test: 'vitest run', build: 'tsc' } }));
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  writeFileSync(join(dir, 'src', 'index.ts'), 'export const x = 1;\n');
  writeFileSync(join(dir, 'src', 'util.ts'), 'export const y = 2;\n');
  // Dependency folders are not the project's languages.
  writeFileSync(join(dir, 'node_modules', 'dep', 'a.py'), 'x = 1\n');
  writeFileSync(join(dir, 'README.md'), '# Demo\n\nA demo project.\n');
  return dir;
}

describe('nexora init', () => {
  it('writes the plain template from a look at the project when no model is configured, and keeps an existing file', async () => {
    const dir = project('plain');
    const result = await runCli(['init', '--workspace', dir], { env: bareEnv(), timeoutMs: 300_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('plain template: no model is configured');
    const written = readFileSync(join(dir, 'AGENTS.md'), 'utf8');
    expect(written).toContain('working on demo-plain');
    expect(written).toContain('- Languages: TypeScript\n');
    expect(written).toContain('- Test: `npm test`');
    expect(written).toContain('- Build: `npm run build`');
    expect(written).toContain('- Install dependencies: `npm ci`');
    expect(written).not.toContain('Python');

    const again = await runCli(['init', '--workspace', dir], { env: bareEnv(), timeoutMs: 300_000 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists: edit it, or run `nexora init --force`');
    expect(readFileSync(join(dir, 'AGENTS.md'), 'utf8')).toBe(written);
  });

  it('asks the configured model, giving it what it found, and writes its answer', async () => {
    const server = await ScriptedModelServer.start({
      apiKey: 'init-key-0123456789',
      script: {
        name: 'init',
        turns: [
          {
            expect: { historyIncludes: ['Write an AGENTS.md', '"test": "npm test"', '"TypeScript"', 'A demo project.'] },
            respond: { text: '```markdown\n# AGENTS.md\n\nRun `npm test` before you finish.\n```' },
          },
        ],
      },
    });
    servers.push(server);
    const dir = project('model');
    writeFileSync(
      // Endpoints belong in the user's own config: a workspace nexora.json may not set them untrusted.
      join(home, 'config.json'),
      JSON.stringify({
        model: 'scripted/m',
        providers: { scripted: { kind: 'anthropic', baseUrl: server.anthropicBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
      }),
    );
    const result = await runCli(['init', '--workspace', dir], { env: bareEnv({ SCRIPTED_API_KEY: 'init-key-0123456789' }), timeoutMs: 300_000 });
    expect(result.stderr).toBe('');
    expect(server.violations).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('written by scripted/m');
    expect(readFileSync(join(dir, 'AGENTS.md'), 'utf8')).toBe('# AGENTS.md\n\nRun `npm test` before you finish.\n');
  });
});
