import { spawn } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRun, type CliRun } from '../fixtures/cli-run.js';
import { cliPath, runCli } from '../fixtures/run-cli.js';
import type { ModelScriptInput } from '../model-server/script.js';
import { ScriptedModelServer } from '../model-server/server.js';
import { writeScriptedConfig } from '../model-server/user-config.js';

/**
 * Issue 20, finding 6, as the attacker: a model (or text a workstation fed it) whose words and
 * tool-call arguments carry terminal escape sequences — OSC 52 (write the user's clipboard),
 * OSC 8 (a hyperlink whose text lies about its target), a screen clear, a CR and line erase that
 * hide the start of a command, 8-bit C1 controls and bidi overrides. The real CLI runs against a
 * scripted model on a real workstation; what reaches the user's stdout and stderr is checked
 * byte for byte: none of these characters, every one of them visible instead.
 */
const osc52 = '\x1b]52;c;cm0gLXJmIH4K\x07';
const osc8 = '\x1b]8;;http://127.0.0.1:9/phish\x1b\\click here\x1b]8;;\x1b\\';
const clear = '\x1b[2J\x1b[H';
const c1 = '\u009b2J\u009d52;c;Yw==\u009c';
const bidi = 'safe \u202e)"txt.sgol"(\u202c \u2066isolated\u2069';
const hiddenCommand = 'rm -rf ~ #\r\x1b[2K    npm test';
const hostile = `${osc52} ${osc8} ${clear} ${c1} ${bidi}`;
/** How each piece must look on the terminal instead. */
const visible = ['␛]52;c;cm0gLXJmIH4K␇', '␛]8;;http://127.0.0.1:9/phish␛\\click here␛]8;;␛\\', '␛[2J␛[H', '<U+009B>2J<U+009D>52;c;Yw==<U+009C>', 'safe <U+202E>)"txt.sgol"(<U+202C> <U+2066>isolated<U+2069>'];

/** ESC, BEL, every C1 control, and the bidi overrides and isolates of the hostile text. */
// eslint-disable-next-line no-control-regex -- the characters this test proves never reach a terminal
const dangerous = /[\u0007\u001b\u0080-\u009f\u202a-\u202e\u2066-\u2069]/u;

const apiKey = 'escapes-key-0123456789';
let suite: CliRun;
let env: NodeJS.ProcessEnv;
let home: string;
let workspace: string;
const servers: ScriptedModelServer[] = [];

beforeAll(async () => {
  suite = cliRun('escapes');
  home = join(suite.root, 'home');
  workspace = join(suite.root, 'workspace');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(workspace);
  chownSync(workspace, 1000, 1000);
  env = await suite.env(home, { SCRIPTED_API_KEY: apiKey });
  // Started here, so that a run's output is only the run's.
  const started = await runCli(['server', 'start'], { env, timeoutMs: 180_000 });
  if (started.code !== 0) throw new Error(`nexora server start failed: ${started.stderr}`);
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await suite?.cleanUp();
});

/** A scripted model named in the user's own config (read at each run). */
async function scripted(script: ModelScriptInput): Promise<ScriptedModelServer> {
  const server = await ScriptedModelServer.start({ script, apiKey });
  servers.push(server);
  writeScriptedConfig(home, server, { capabilities: { tools: true, vision: false, contextTokens: 100_000 }, prices: { input: 3, output: 15 } });
  return server;
}

/** The model says hostile things, asks to run the disguised command, then calls a tool with hostile arguments. */
const hostileRun = (name: string, refusal: string): ModelScriptInput => ({
  name,
  turns: [
    { respond: { text: `Cleaning up. ${hostile}`, toolCalls: [{ name: 'execute', input: { command: hiddenCommand } }] } },
    {
      expect: { toolResultIncludes: ['Not run: execute(', refusal] },
      respond: { text: `Then this. ${hostile}`, toolCalls: [{ name: 'execute', input: { command: `echo '${c1} ${bidi}'`, cwd: `/workspace/${c1}` } }] },
    },
    { respond: { text: `All done. ${hostile}` } },
  ],
});

/** Every piece of the hostile text shows up visibly, at least `times` times. */
function expectVisible(output: string, times = 1): void {
  for (const piece of visible) expect(output.split(piece).length - 1, piece).toBeGreaterThanOrEqual(times);
}

describe('nexora run with a hostile model', () => {
  it('writes none of its control characters to stdout or stderr, and shows each of them', async () => {
    const server = await scripted(hostileRun('piped', 'no one can be asked in this run'));
    const result = await runCli(['run', 'clean up the project', '--workspace', workspace, '--approve', 'risky'], { env, timeoutMs: 180_000 });
    expect(server.violations).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(dangerous);
    expect(result.stderr).not.toMatch(dangerous);
    // Three times in the model's words; the tool lines carry the C1 and bidi parts too.
    expectVisible(result.stdout, 3);
    expect(result.stdout).toContain('<U+009B>2J<U+009D>52;c;Yw==<U+009C> safe <U+202E>');
    // Without a terminal the disguised command was refused, and the refusal shows it whole.
    expect(result.stdout).toContain('→ execute {"command":"rm -rf ~ #\\r\\u001b[2K    npm test"}');
  });

  it('--json: the same text, escaped so the terminal never sees it and a program reads it exactly', async () => {
    const server = await scripted(hostileRun('json', 'no one can be asked in this run'));
    const result = await runCli(['run', 'clean up the project', '--workspace', workspace, '--approve', 'risky', '--json'], { env, timeoutMs: 180_000 });
    expect(server.violations).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(dangerous);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; text?: string });
    expect(events.filter((event) => event.type === 'step-end').map((event) => event.text)).toContain(`All done. ${hostile}`);
  });

  it('asks at a terminal with the whole command on one line, its hidden part visible', async () => {
    const server = await scripted(hostileRun('pty', 'the person answered no'));
    const result = await inTerminal(['run', 'clean up the project', '--workspace', workspace, '--approve', 'risky'], { answer: 'n\r', after: 'Allow it? [y/N]' });
    expect(server.violations).toEqual([]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('⚠ The agent wants to run:\r\n    «rm -rf ~ #␍␛[2K    npm test»');
    expect(result.output).toContain('characters a terminal would act on or hide');
    // The "no" reached the model as the refusal (the script expects it: no violations).
    expectVisible(result.output, 3);
    // readline draws its prompt with cursor moves (ESC [ n G, ESC [ 0 J); nothing else may appear.
    // eslint-disable-next-line no-control-regex -- readline's own sequences, taken out before the check
    expect(result.output.replace(/\u001b\[\d+G|\u001b\[0J/g, '')).not.toMatch(dangerous);
  });
});

describe('nexora server logs', () => {
  it('shows a failed run whose error carries the model endpoint\'s escapes, inert', async () => {
    await scripted({ name: 'fault', loop: true, turns: [{ fault: { status: 400, message: `bad request ${hostile}` } }] });
    const run = await runCli(['run', 'anything', '--workspace', workspace], { env, timeoutMs: 180_000 });
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(dangerous);
    expect(run.stdout).toContain('✗ failed:');
    expectVisible(run.stdout);

    const logs = await runCli(['server', 'logs', '-n', '200'], { env, timeoutMs: 60_000 });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/run \S+ on \S+: failed \(.*bad request ␛\]52;c;cm0gLXJmIH4K␇/);
    expectVisible(logs.stdout);
    expect(logs.stdout).not.toMatch(dangerous);
    expect(logs.stderr).not.toMatch(dangerous);
  });
});

/**
 * Runs the CLI in a pseudo-terminal (util-linux `script`), as a person at a terminal would, and
 * types `answer` once `after` has appeared. Its output is everything the terminal received.
 */
function inTerminal(args: string[], options: { answer: string; after: string; timeoutMs?: number }): Promise<{ code: number | null; output: string }> {
  const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, cliPath, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-f', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nexora ${args.join(' ')} in a terminal did not finish in time; it printed:\n${output}`));
    }, options.timeoutMs ?? 180_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!answered && output.includes(options.after)) {
        answered = true;
        child.stdin.write(options.answer);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, output });
    });
  });
}
