import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRun } from './fixtures/cli-run.js';
import { cliPath, runCli } from './fixtures/run-cli.js';
import type { ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';
import { writeScriptedConfig } from './model-server/user-config.js';

/**
 * Project instructions and conversations that resume, as a user meets them: the built CLI in
 * child processes (so every run opens the store afresh), a real workstation, and the
 * scripted model server checking what each request carries.
 */
const run = cliRun('conversation');
const root = run.root;
const home = join(root, 'home');
mkdirSync(home);
const servers: ScriptedModelServer[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  env = await run.env(home, { SCRIPTED_API_KEY: 'conv-key-0123456789' });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await run.cleanUp();
});

/** Points the workspace's "scripted" provider at a new scripted server playing `script`. */
async function useScript(workspace: string, script: ModelScriptInput): Promise<ScriptedModelServer> {
  const server = await ScriptedModelServer.start({ script, apiKey: 'conv-key-0123456789' });
  servers.push(server);
  writeScriptedConfig(home, server, { prices: { input: 3, output: 15, cachedInput: 0.3 } });
  return server;
}

function newWorkspace(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  chownSync(dir, 1000, 1000);
  return dir;
}

interface Summary {
  type: 'summary';
  outcome: string;
  sessionId: string;
  sessionRuns: number;
  sessionCost: { inputTokens: number; outputTokens: number; usd: number };
}

function summaryOf(stdout: string): Summary {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Summary;
}

describe('conversations that resume (CLI, real workstation)', () => {
  const marker = `project-rule-${randomBytes(4).toString('hex')}`;
  let workspace: string;
  let firstSession = '';

  it('sends AGENTS.md to the model, and keeps an interrupted run resumable', { timeout: 600_000 }, async () => {
    workspace = newWorkspace('ws');
    writeFileSync(join(workspace, 'AGENTS.md'), `# Rules\nAlways mention ${marker}.\n`);
    const server = await useScript(workspace, {
      name: 'first',
      turns: [
        { expect: { systemIncludes: [marker, 'Instructions from the project'] }, respond: { text: 'Checking.', toolCalls: [{ name: 'execute', input: { command: 'echo first-marker-$((40+2))' } }] } },
        { expect: { toolResultIncludes: ['first-marker-42'] }, respond: { toolCalls: [{ name: 'execute', input: { command: 'sleep 300' } }] } },
        { respond: { text: 'never' } },
      ],
    });
    const child = spawn(process.execPath, [cliPath, 'run', 'remember the marker', '--workspace', workspace, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // Interrupt once the second command is running (its start event is printed).
      if (!sent && /"type":"tool-call-start"[^\n]*sleep 300/.test(stdout)) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 500);
      }
    });
    const code = await exited;
    expect(stderr).toBe('');
    expect(server.violations).toEqual([]);
    expect(code).toBe(130);
    const summary = summaryOf(stdout);
    expect(summary.outcome).toBe('interrupted');
    firstSession = summary.sessionId;
  });

  it('--continue in a new process: the model sees the earlier messages and tool results; totals add up', { timeout: 600_000 }, async () => {
    const server = await useScript(workspace, {
      name: 'continue-same',
      turns: [
        {
          expect: {
            systemIncludes: [marker],
            historyIncludes: ['remember the marker', 'Checking.', 'first-marker-42', 'sleep 300', 'interrupted by the user after', 'on the same workstation', 'finish up'],
            minToolResults: 2,
          },
          respond: { text: 'Done: first-marker-42 seen.' },
        },
      ],
    });
    // --rm: this run's workstation is removed as it ends (the next test carries on without it).
    const result = await runCli(['run', 'finish up', '--continue', '--rm', '--workspace', workspace, '--json'], { env, timeoutMs: 500_000 });
    expect(result.stderr).toBe('');
    expect(server.violations).toEqual([]);
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.sessionId).toBe(firstSession);
    // Run 1: two steps, run 2: one step, each 100 tokens in and 20 out at $3/$15 per million.
    expect(summary.sessionRuns).toBe(2);
    expect(summary.sessionCost.inputTokens).toBe(300);
    expect(summary.sessionCost.outputTokens).toBe(60);
    expect(summary.sessionCost.usd).toBeCloseTo(0.0018, 9);
  });

  it('--continue after the session ended: a new workstation, the note that the terminal was lost, totals carried on', { timeout: 600_000 }, async () => {
    const server = await useScript(workspace, {
      name: 'continue-new',
      turns: [
        {
          expect: { historyIncludes: ['first-marker-42', 'Done: first-marker-42 seen.', "the terminal's state was lost", 'one more thing'], minToolResults: 2 },
          respond: { toolCalls: [{ name: 'execute', input: { command: 'echo still $((6*7))' } }] },
        },
        { expect: { toolResultIncludes: ['still 42'] }, respond: { text: 'Finished again.' } },
      ],
    });
    const result = await runCli(['run', 'one more thing', '--continue', '--workspace', workspace, '--json'], { env, timeoutMs: 500_000 });
    expect(result.stderr).toBe('');
    expect(server.violations).toEqual([]);
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.sessionId).not.toBe(firstSession);
    expect(result.stdout).toContain(`conversation ${firstSession} carried on`);
    expect(summary.sessionRuns).toBe(3);
    expect(summary.sessionCost.inputTokens).toBe(500);
    expect(summary.sessionCost.usd).toBeCloseTo(0.003, 9);
  });

  it('--resume ID carries on a named conversation from any directory; bad requests are refused with a fix', { timeout: 600_000 }, async () => {
    const elsewhere = newWorkspace('elsewhere');
    const server = await useScript(workspace, {
      name: 'resume-id',
      // Session 1's conversation: runs 1 and 2 (run 3 went on in a later session, which --resume of session 1 does not include).
      turns: [{ expect: { historyIncludes: ['remember the marker', 'Done: first-marker-42 seen.', 'by id'] }, respond: { text: 'Resumed by id.' } }],
    });
    const result = await runCli(['run', 'by id', '--resume', firstSession, '--workspace', elsewhere, '--json'], { env, timeoutMs: 500_000 });
    // The conversation's own workspace (and its nexora.json) are used, not the directory given.
    expect(result.stderr).toBe('');
    expect(server.violations).toEqual([]);
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout).sessionRuns).toBe(3);

    const none = await runCli(['run', 'x', '--continue', '--workspace', elsewhere], { env, timeoutMs: 60_000 });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`There is no conversation to continue in ${elsewhere}`);
    const both = await runCli(['run', 'x', '--continue', '--resume', firstSession, '--workspace', workspace], { env, timeoutMs: 60_000 });
    expect(both.code).toBe(2); // a usage error: the flags exclude each other
    expect(both.stderr).toContain('Use one of --continue, --resume ID and --session ID');
    expect(readFileSync(join(workspace, 'AGENTS.md'), 'utf8')).toContain(marker);
  });
});
