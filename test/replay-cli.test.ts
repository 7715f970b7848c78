import { chownSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRun } from './fixtures/cli-run.js';
import { runCli } from './fixtures/run-cli.js';
import { ScriptedModelServer } from './model-server/server.js';

/**
 * Replay without a model: a session recorded by a real `nexora run` (scripted model, real
 * workstation) is performed again by `nexora session replay` on a fresh workstation over a
 * copy of its workspace, and exported as a script that `nexora demo --script` performs.
 */
const run = cliRun('replay');
const root = run.root;
const home = join(root, 'home');
mkdirSync(home);
const servers: ScriptedModelServer[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  env = await run.env(home, { SCRIPTED_API_KEY: 'replay-key-0123456789' });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await run.cleanUp();
});

/** A workspace with notes.txt, and a recorded run that reads it four ways. */
async function recordSession(name: string, extraFlags: string[] = []): Promise<{ workspace: string; sessionId: string }> {
  const workspace = join(root, name);
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'notes.txt'), 'alpha\nbeta\n');
  const server = await ScriptedModelServer.start({
    apiKey: 'replay-key-0123456789',
    script: {
      name: `record-${name}`,
      turns: [
        { respond: { toolCalls: [{ name: 'execute', input: { command: 'echo start' } }] } },
        { respond: { toolCalls: [{ name: 'execute', input: { command: 'cat notes.txt' } }] } },
        // The shell then waits in `read` behind a prompt that only the command prints (the typed
        // line shows $((6*7)), not 42): the screen is still when the wait ends, in both runs.
        { respond: { toolCalls: [{ name: 'keyboard', input: { text: 'clear; wc -l < notes.txt; read -p "READY-$((6*7))> "\n', waitFor: 'READY-42> ', timeoutMs: 60_000 } }] } },
        { respond: { toolCalls: [{ name: 'screen', input: { full: true } }] } },
        { respond: { text: 'Read the notes.' } },
      ],
    },
  });
  servers.push(server);
  writeFileSync(
    // Endpoints belong in the user's own config: a workspace nexora.json may not set them untrusted.
    join(home, 'config.json'),
    JSON.stringify({
      model: 'scripted/m',
      providers: { scripted: { kind: 'anthropic', baseUrl: server.anthropicBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
      models: { 'scripted/m': { capabilities: { vision: true }, prices: { input: 3, output: 15 } } },
    }),
  );
  chownSync(workspace, 1000, 1000);
  chownSync(join(workspace, 'notes.txt'), 1000, 1000);
  const result = await runCli(['run', 'read the notes', '--workspace', workspace, '--json', ...extraFlags], { env, timeoutMs: 500_000 });
  expect(result.stderr).toBe('');
  expect(server.violations).toEqual([]);
  expect(result.code).toBe(0);
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { sessionId: string };
  return { workspace, sessionId: summary.sessionId };
}

describe('nexora session replay (CLI, real workstations)', () => {
  let recorded: { workspace: string; sessionId: string };

  it('reproduces a recorded session with no differences, warning that it replays over the current workspace', { timeout: 900_000 }, async () => {
    recorded = await recordSession('plain');
    const replay = await runCli(['session', 'replay', recorded.sessionId], { env, timeoutMs: 500_000 });
    expect(replay.stderr).toBe('');
    expect(replay.stdout).toContain('No copy of the workspace was kept');
    expect(replay.stdout).toMatch(/✓ step 2 execute \{"command":"cat notes.txt"\} — same/);
    expect(replay.stdout).toMatch(/✓ step 3 keyboard/);
    expect(replay.stdout).toContain('✓ reproduced: 4 steps gave the recorded results');
    expect(replay.code).toBe(0);
    // The replay worked on a copy: the workspace is untouched.
    expect(readFileSync(join(recorded.workspace, 'notes.txt'), 'utf8')).toBe('alpha\nbeta\n');
  });

  it('reports the first divergent step after a workspace file changed', { timeout: 900_000 }, async () => {
    writeFileSync(join(recorded.workspace, 'notes.txt'), 'alpha\ngamma\ndelta\n');
    const replay = await runCli(['session', 'replay', recorded.sessionId], { env, timeoutMs: 500_000 });
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/✓ step 1 execute \{"command":"echo start"\} — same/);
    expect(replay.stdout).toMatch(/✗ step 2 execute \{"command":"cat notes.txt"\} — differs at line 5 of its result/);
    expect(replay.stdout).toContain('    recorded: beta');
    expect(replay.stdout).toContain('    now:      gamma');
    expect(replay.stdout).toMatch(/✗ \d of 4 steps differ; the first is step 2 \(execute\)/);
    writeFileSync(join(recorded.workspace, 'notes.txt'), 'alpha\nbeta\n');
  });

  it('replays over the copy taken at the start when the run kept one (--snapshot)', { timeout: 900_000 }, async () => {
    const kept = await recordSession('snapshot', ['--snapshot']);
    writeFileSync(join(kept.workspace, 'notes.txt'), 'changed since\n');
    const replay = await runCli(['session', 'replay', kept.sessionId], { env, timeoutMs: 500_000 });
    expect(replay.stderr).toBe('');
    expect(replay.stdout).not.toContain('No copy of the workspace was kept');
    expect(replay.stdout).toContain('over its workspace as it was at the start');
    expect(replay.stdout).toContain('✓ reproduced: 4 steps');
    expect(replay.code).toBe(0);
  });

  it('exports a standalone script that nexora demo --script performs', { timeout: 900_000 }, async () => {
    const file = join(root, 'session.script.json');
    const exported = await runCli(['session', 'replay', recorded.sessionId, '--export', 'script', '--out', file], { env, timeoutMs: 120_000 });
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const script = JSON.parse(readFileSync(file, 'utf8')) as { nexoraScript: number; steps: { tool: string; input: unknown; expect?: string }[] };
    expect(script.nexoraScript).toBe(1);
    expect(script.steps.map((step) => step.tool)).toEqual(['execute', 'execute', 'keyboard', 'screen']);
    expect(script.steps[1]?.expect).toContain('alpha\nbeta');

    // Performed by another Nexora home (the script stands alone) over a copy of the project.
    const elsewhere = join(root, 'demo-home');
    mkdirSync(elsewhere);
    const workspace = join(root, 'demo-workspace');
    cpSync(recorded.workspace, workspace, { recursive: true });
    chownSync(workspace, 1000, 1000);
    chownSync(join(workspace, 'notes.txt'), 1000, 1000);
    const demo = await runCli(['demo', '--script', file, '--workspace', workspace], { env: { ...env, NEXORA_HOME: elsewhere }, timeoutMs: 500_000 });
    expect(demo.stderr).toBe('');
    expect(demo.stdout).toContain('no language model is involved');
    expect(demo.stdout).toContain('4 steps performed, every recorded result reproduced');
    expect(demo.code).toBe(0);

    const broken = join(root, 'broken.json');
    writeFileSync(broken, JSON.stringify({ nexoraScript: 1, steps: [{ tool: 'rm', input: {} }] }));
    const refused = await runCli(['demo', '--script', broken], { env: { ...env, NEXORA_HOME: elsewhere }, timeoutMs: 120_000 });
    expect(refused.code).toBe(2); // an invalid --script file is a usage error
    expect(refused.stderr).toContain('is not a Nexora script: steps.0.tool');
  });
});
