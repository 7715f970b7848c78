import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedModelServer } from './model-server/server.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';

/**
 * The whole TUI in a real terminal: `nexora` with no arguments inside tmux (80×24), a real
 * workstation, and the scripted model server speaking OpenAI's wire format. A task typed at
 * the prompt runs to completion and the screen shows its tool calls, the terminal pane and
 * the cost.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

let world: SessionEnv;
let server: ScriptedModelServer;
let workspace: string;
let socket: string;

/** Types like a person: the text, then Enter as a separate keystroke (a chunk with both reads as a paste). */
async function typeLine(target: string, text: string): Promise<void> {
  tmux('send-keys', '-t', target, '-l', text);
  await sleep(300);
  tmux('send-keys', '-t', target, 'Enter');
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

function capture(options: { escapes?: boolean; target?: string } = {}): string {
  return tmux('capture-pane', '-p', ...(options.escapes ? ['-e'] : []), '-t', options.target ?? 'tui');
}

async function waitForScreen(pattern: RegExp, what: string, options: { timeoutMs?: number; target?: string } = {}): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const screen = capture(options.target ? { target: options.target } : {});
    if (pattern.test(screen)) return screen;
    if (/nexora exited/.test(screen) || Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${screen}`);
    await sleep(200);
  }
}

/** Whether any SGR sequence sets a foreground or background colour (39/49, the defaults, do not). */
function hasColour(screen: string): boolean {
  // eslint-disable-next-line no-control-regex -- SGR sequences start with ESC
  for (const match of screen.matchAll(/\u001b\[([\d;]*)m/g)) {
    const codes = (match[1] ?? '').split(';').map(Number);
    if (codes.some((code) => (code >= 30 && code <= 38) || (code >= 40 && code <= 48) || (code >= 90 && code <= 107))) return true;
  }
  return false;
}

/** A launcher script: tmux runs it, so the environment is exactly this one. */
function launcher(name: string, env: Record<string, string>): string {
  const file = join(world.home, `${name}.sh`);
  const exports = Object.entries(env)
    .map(([key, value]) => `export ${key}='${value.replace(/'/g, `'\\''`)}'`)
    .join('\n');
  // Ink draws only the last frame when it thinks it runs in CI; this terminal is a real one.
  writeFileSync(file, `#!/bin/sh\nunset CI CONTINUOUS_INTEGRATION\n${exports}\ncd '${workspace}'\n'${process.execPath}' --import '${tsx}' '${join(root, 'src/cli/main.ts')}'\necho "nexora exited $?"\nsleep 600\n`);
  chmodSync(file, 0o755);
  return file;
}

beforeAll(async () => {
  world = await createSessionEnv('tui', { vncRange: [46440, 46459], cdpRange: [47440, 47459] });
  socket = `nexora-${world.runId}`;
  server = await ScriptedModelServer.start({
    apiKey: 'k',
    script: {
      name: 'tui',
      requireTools: ['screen', 'keyboard', 'execute'],
      turns: [
        { respond: { text: 'Checking the marker first.', toolCalls: [{ name: 'execute', input: { command: 'echo tui-marker-$((6*7))' } }], usage: { input: 1200, output: 80 } } },
        {
          expect: { toolResultIncludes: ['tui-marker-42'] },
          respond: { toolCalls: [{ name: 'keyboard', input: { text: 'echo typed-by-agent\n' } }], usage: { input: 1500, output: 40 } },
        },
        { respond: { text: 'Done: the marker is 42.', usage: { input: 1700, output: 30 } } },
        // The second task's first step is slow, so that Esc lands mid-step.
        { respond: { text: 'too late', delayMs: 20_000, usage: { input: 10, output: 1 } } },
      ],
    },
  });
  workspace = world.workspace();
  // The provider's endpoint and key variable are the user's to choose: the user config, not the workspace's nexora.json.
  writeFileSync(
    join(world.home, 'config.json'),
    JSON.stringify({
      model: 'scripted/model-a',
      providers: { scripted: { kind: 'openai', baseUrl: server.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_KEY' } },
      models: { 'scripted/model-a': { capabilities: { tools: true, vision: false, imagesInToolResults: false, contextTokens: 100_000 }, prices: { input: 3, output: 15 } } },
    }),
  );
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // No server left: nothing to kill.
  }
  await server?.close();
  // Sessions the CLI started carry this run's labels (NEXORA_CONTAINER_LABELS); dispose removes them.
  await world?.dispose();
});

function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    TERM: 'xterm-256color',
    NEXORA_HOME: world.home,
    DATABASE_URL: '',
    SCRIPTED_KEY: 'k',
    NEXORA_VNC_PORTS: '46440-46459',
    NEXORA_CDP_PORTS: '47440-47459',
    NEXORA_CONTAINER_PREFIX: world.namePrefix,
    NEXORA_NETWORK_NAME: world.networkName,
    NEXORA_CONTAINER_LABELS: Object.entries(world.labels).map(([key, value]) => `${key}=${value}`).join(','),
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  };
}

describe('nexora (the TUI) in tmux', { timeout: 600_000 }, () => {
  it('runs a typed task to completion and shows its tool calls, the terminal and the cost', async () => {
    tmux('new-session', '-d', '-s', 'tui', '-x', '80', '-y', '24', launcher('tui', baseEnv()));
    // The first command of a fresh home starts its server, which creates the store: slow on a loaded machine.
    await waitForScreen(/Describe a task, or \/help/, 'the prompt', { timeoutMs: 240_000 });
    const colored = capture({ escapes: true });
    await typeLine('tui', 'Print the marker, then type in the terminal');
    const started = Date.now();
    const done = await waitForScreen(/✓ completed/, 'the run to complete', { timeoutMs: 120_000 });
    console.log(`task typed → completed on screen in ${Date.now() - started} ms\n${done}`);
    expect(done).toContain('› Print the marker, then type in the terminal');
    expect(done).toContain('Checking the marker first.');
    expect(done).toMatch(/✓ execute "echo tui-marker-\$\(\(6\*7\)\)" +exit code 0/);
    expect(done).toMatch(/✓ keyboard "echo typed-by-agent\\n"/);
    expect(done).toContain('Done: the marker is 42.');
    // The terminal pane shows what the agent typed, and the status line the totals.
    expect(done).toMatch(/│typed-by-agent +│/);
    expect(done).toMatch(/ses_\w+… │ scripted\/model-a │ step 3 │ [\d.]+m?s │ 4\.5k tok │ \$0\.0154 │ ready/);
    for (const line of done.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // Colour is on without NO_COLOR.
    expect(hasColour(colored)).toBe(true);

    await typeLine('tui', '/cost');
    await waitForScreen(/session ses_\w+: 4\.4k tokens in [\s\S]*150 out,\s+\$0\.0154/, 'the /cost answer');

    // Esc interrupts a running step; the session stays.
    await typeLine('tui', 'Take your time');
    await waitForScreen(/│ step 1 │ .* │ running/, 'the second run to start');
    const pressed = Date.now();
    tmux('send-keys', '-t', 'tui', 'Escape');
    await waitForScreen(/✗ interrupted: Interrupted by the user/, 'the interrupt', { timeoutMs: 10_000 });
    console.log(`Esc → interrupted on screen in ${Date.now() - pressed} ms`);

    // /view starts the web view in the TUI's own process (where the take-over gate lives).
    await typeLine('tui', '/view');
    await waitForScreen(/web view: http/, 'the /view answer');
    // Ink breaks the long address at the screen edge: glue the lines back together.
    const joined = capture().split('\n').join('');
    const url = /web view: (http:\/\/127\.0\.0\.1:\d+\/t\/[A-Za-z0-9_-]+\/)#(ses_\w+)/.exec(joined);
    expect(url?.[1]).toBeDefined();
    const page = await fetch(url?.[1] ?? '');
    expect(page.status).toBe(200);
    const listed = (await (await fetch(`${url?.[1] ?? ''}api/sessions`)).json()) as { sessions: { id: string }[] };
    expect(listed.sessions.map((session) => session.id)).toContain(url?.[2]);
    const transcript = (await (await fetch(`${url?.[1] ?? ''}api/sessions/${url?.[2] ?? ''}/events`)).json()) as { events: { kind: string }[] };
    expect(transcript.events.map((event) => event.kind)).toEqual(expect.arrayContaining(['run-start', 'tool-call-end', 'run-end']));

    // Quit, stopping the session.
    tmux('send-keys', '-t', 'tui', 'C-c');
    await waitForScreen(/Quit: \[k\]eep the session/, 'the quit question');
    tmux('send-keys', '-t', 'tui', '-l', 's');
    await waitForScreen(/nexora exited 0/, 'nexora to exit', { timeoutMs: 30_000 });
    expect(await world.containers()).toHaveLength(0);
    expect(server.requests.length).toBe(4);
  });

  it('respects NO_COLOR and fits a narrow terminal', async () => {
    // The embedded database has one owner: make sure the first TUI is gone.
    try {
      tmux('kill-session', '-t', 'tui');
      await sleep(2000);
    } catch {
      // Already gone.
    }
    tmux('new-session', '-d', '-s', 'narrow', '-x', '40', '-y', '12', launcher('narrow', { ...baseEnv(), NO_COLOR: '1' }));
    const screen = await waitForScreen(/Describe a task/, 'the prompt', { target: 'narrow' });
    const raw = tmux('capture-pane', '-p', '-e', '-t', 'narrow');
    expect(hasColour(raw)).toBe(false);
    expect(raw).toContain('\u001b[7m');
    expect(screen).toMatch(/s0 │ – │ \$0\.00 │ ready/);
    for (const line of screen.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
    tmux('send-keys', '-t', 'narrow', 'C-c');
    await waitForScreen(/Quit:/, 'the quit question', { target: 'narrow' });
    tmux('send-keys', '-t', 'narrow', '-l', 'k');
    await waitForScreen(/nexora exited 0/, 'nexora to exit', { target: 'narrow', timeoutMs: 30_000 });
  });
});
