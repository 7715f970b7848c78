import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testServerUrl } from './fixtures/db-engines.js';
import { runCli } from './fixtures/run-cli.js';

/** The command-line conventions people expect, checked on the built CLI with their exit codes. */
const root = mkdtempSync(join(tmpdir(), 'nexora cli conventions '));
const home = join(root, 'home');
const workspace = join(root, 'workspace');
mkdirSync(workspace);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** No provider key anywhere and the embedded store in a home of its own. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXORA_HOME: home, DATABASE_URL: '', NEXORA_DEBUG: '', ...extra };
  for (const name of Object.keys(env)) if (name.endsWith('_API_KEY') && !(name in extra)) delete env[name];
  return env;
}

const cli = (args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) =>
  runCli(args, { env: options.env ?? bareEnv(), timeoutMs: 300_000, ...(options.input !== undefined ? { input: options.input } : {}) });

/** A stack frame ("    at f (file:1:2)") in the output means an expected failure was reported as a crash. */
const stackFrame = /^\s+at .+[(:]\d+/m;

describe('unknown commands and usage errors', { timeout: 900_000 }, () => {
  it('names an unknown command and suggests the nearest, exit 2', async () => {
    const typo = await cli(['sesion', 'list']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'sesion' — did you mean 'session'?");
    expect(typo.stderr).not.toContain('too many arguments');
    const nested = await cli(['session', 'lsit']);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toContain("unknown command 'session lsit' — did you mean 'session list'?");
    const nothingClose = await cli(['frobnicate']);
    expect(nothingClose.code).toBe(2);
    expect(nothingClose.stderr).toContain("unknown command 'frobnicate': `nexora --help` lists the commands.");
  });

  it('exits 2 for an unknown option, a missing argument or a bad value; 0 for help', async () => {
    const option = await cli(['doctor', '--frob']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--frob'");
    const missing = await cli(['session', 'info']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");
    const value = await cli(['session', 'info', 'not a session id']);
    expect(value.code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('nexora -p "task"');
  });

  it('--help prints what the CLI itself renders (the fast path reads the help the build wrote)', async () => {
    const fast = await cli(['--help']);
    const rendered = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)), '--help'], { encoding: 'utf8' });
    expect(fast.code).toBe(0);
    expect(fast.stdout).toBe(rendered.stdout);
    for (const command of ['session', 'server', 'run', 'mcp']) expect(fast.stdout).toMatch(new RegExp(`^  ${command}[ |]`, 'm'));
    expect((await cli(['-h'])).stdout).toBe(rendered.stdout);
  });

  it('reports the version written in package.json', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await cli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });
});

describe('a task from -p, `run -` or a pipe', { timeout: 900_000 }, () => {
  // With no provider key the run stops at "No model provider is usable" (exit 1), after the task
  // was accepted: an empty or missing task would stop earlier with exit 2.
  const accepted = 'No model provider is usable';

  it('nexora -p "task" runs the task', async () => {
    const result = await cli(['-p', 'fix the failing test', '--workspace', workspace]);
    expect(result.stderr).toContain(accepted);
    expect(result.code).toBe(1);
  });

  it('nexora run - and nexora -p read the task from stdin', async () => {
    const dash = await cli(['run', '-', '--workspace', workspace], { input: 'fix the failing test\n' });
    expect(dash.stderr).toContain(accepted);
    expect(dash.code).toBe(1);
    const print = await cli(['-p', '--workspace', workspace], { input: 'fix the failing test' });
    expect(print.stderr).toContain(accepted);
    expect(print.code).toBe(1);
  });

  it('nexora with a task piped in runs it instead of opening the UI', async () => {
    const result = await cli(['--workspace', workspace], { input: 'fix the failing test' });
    expect(result.stderr).toContain(accepted);
    expect(result.stderr).not.toContain('needs a terminal');
    expect(result.code).toBe(1);
  });

  it('an empty stdin is a usage error that says how to give the task', async () => {
    for (const args of [['run', '-'], ['run'], ['-p'], []]) {
      const result = await cli([...args, '--workspace', workspace], { input: '  \n' });
      expect(result.code, `nexora ${args.join(' ')}`).toBe(2);
      expect(result.stderr).toContain('No task arrived on stdin');
    }
  });
});

describe('expected failures without a stack trace', { timeout: 900_000 }, () => {
  it('a NEXORA_HOME that cannot be created (a file in the way)', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    const result = await cli(['keys', 'list'], { env: bareEnv({ NEXORA_HOME: join(file, 'home') }) });
    expect(result.code).toBe(1);
    // The first directory the command creates there (the server's log folder, as it starts the server).
    expect(result.stderr).toMatch(new RegExp(`Cannot create the directory ${join(file, 'home')}/\\w+: a part of the path is a file, not a directory\\.`));
    expect(result.stderr).toContain('set NEXORA_HOME to a directory you own');
    expect(result.stderr).not.toMatch(stackFrame);
  });

  it('a NEXORA_HOME the user may not write', () => {
    const locked = join(root, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    // Root writes anywhere: run the CLI as nobody then (the built CLI is world-readable).
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    chmodSync(root, 0o755);
    const result = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'nexora.js'), 'keys', 'list'], {
      env: bareEnv({ NEXORA_HOME: join(locked, 'home'), HOME: locked }),
      encoding: 'utf8',
      timeout: 300_000,
      ...asUser,
    });
    expect(result.stderr).toContain(`Cannot create the directory ${join(locked, 'home')}`);
    expect(result.stderr).toContain('permission denied');
    expect(result.stderr).not.toMatch(stackFrame);
    expect(result.status).toBe(1);
  });

  it('a wrong database password in DATABASE_URL', async () => {
    const url = new URL(testServerUrl);
    url.password = 'not-the-password';
    // A home of its own: a server already running for another store would be named instead.
    const result = await cli(['keys', 'list'], { env: bareEnv({ DATABASE_URL: url.toString(), NEXORA_HOME: join(root, 'wrong-password-home') }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PostgreSQL at postgres:\/\/\S+:\*\*\*@\S+ refused the connection: password authentication failed/);
    expect(result.stderr).not.toContain('not-the-password');
    expect(result.stderr).not.toMatch(stackFrame);
  });

  it('config show for a workspace that does not exist', async () => {
    const missing = join(root, 'no-such-workspace');
    const result = await cli(['config', 'show', '--workspace', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Invalid --workspace: ${missing} is not a directory.`);
  });
});

describe('keys set', { timeout: 900_000 }, () => {
  it('accepts a provider the user config defines, refuses one only a workspace file names', async () => {
    const configHome = join(root, 'config-home');
    mkdirSync(configHome);
    writeFileSync(join(configHome, 'config.json'), JSON.stringify({ providers: { 'my-vllm': { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' } } }));
    const env = bareEnv({ NEXORA_HOME: configHome });
    const stored = await cli(['keys', 'set', 'my-vllm'], { env, input: 'token-12345\n' });
    expect(stored.stderr).toBe('');
    expect(stored.code).toBe(0);
    expect(stored.stdout).toContain('Stored the my-vllm key');
    const tooShort = await cli(['keys', 'set', 'my-vllm'], { env, input: 'abc\n' });
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toContain('That key is 3 characters long');

    writeFileSync(join(workspace, 'nexora.json'), JSON.stringify({ providers: { 'evil-proxy': { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' } } }));
    const fromWorkspace = runCli(['keys', 'set', 'evil-proxy'], { env, input: 'token-1234567890\n', cwd: workspace, timeoutMs: 300_000 });
    const refused = await fromWorkspace;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("unknown provider 'evil-proxy'");
    expect(refused.stderr).toContain('my-vllm');
  });
});

describe('shell completion', { timeout: 900_000 }, () => {
  it('bash completes commands, subcommands through aliases, and choices', async () => {
    const file = join(root, 'nexora.bash');
    writeFileSync(file, (await cli(['completion', 'bash'])).stdout);
    const complete = (words: string[]): string =>
      spawnSync('bash', ['-c', `source '${file}'; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nexora; echo "\${COMPREPLY[*]}"`], {
        encoding: 'utf8',
      }).stdout.trim();
    expect(complete(['nexora', 'ses'])).toBe('session');
    expect(complete(['nexora', 'sessions', 'l']).split(' ')).toEqual(['list']);
    expect(complete(['nexora', 'completion', '']).split(' ')).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
    expect(complete(['nexora', 'keys', 'set', '--e'])).toBe('--expires');
    // After an option that takes a value, nothing is offered: the shell completes file names.
    expect(complete(['nexora', 'run', '--workspace', ''])).toBe('');
  });

  it('zsh loads the script under compinit and offers the same candidates', async () => {
    const script = (await cli(['completion', 'zsh'])).stdout;
    const file = join(root, '_nexora');
    writeFileSync(file, script);
    const loaded = spawnSync('zsh', ['-f', '-c', `autoload -U compinit; compinit -u -D; source '${file}'; print -r -- $_comps[nexora]`], { encoding: 'utf8' });
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout.trim()).toBe('_nexora');
    // _describe and _files stand in for the completion system: they print what they were given.
    const offered = spawnSync(
      'zsh',
      ['-f', '-c', `compdef() { :; }; _describe() { print -rl -- "\${(@P)4}"; }; _files() { print FILES; }; source '${file}'; words=(nexora keys ''); CURRENT=3; _nexora; words=(nexora run --workspace ''); CURRENT=4; _nexora`],
      { encoding: 'utf8' },
    );
    expect(offered.stderr).toBe('');
    const lines = offered.stdout.split('\n');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^set:store a provider key/), expect.stringMatching(/^rotate:/), 'FILES']));
  });

  it('fish completes through its own complete -C', async () => {
    const script = (await cli(['completion', 'fish'])).stdout;
    const file = join(root, 'nexora.fish');
    writeFileSync(file, script);
    const result = spawnSync('fish', ['--no-config', '-c', `source '${file}'; complete -C'nexora sess'; echo ---; complete -C'nexora keys '`], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const [top, keys] = result.stdout.split('---\n');
    expect(top).toMatch(/^session\t/m);
    expect(keys?.split('\n').map((line) => line.split('\t')[0])).toEqual(expect.arrayContaining(['set', 'list', 'rm', 'rotate']));
  });

  it('refuses a shell it does not know, exit 2', async () => {
    const result = await cli(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Allowed choices are bash, zsh, fish');
  });
});
