import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthBody } from '../src/client/api-schemas.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { cliPath, runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';

// Nexora as other agents use it: a real MCP client from the official SDK launching
// `nexora mcp` over stdio, and the same client over the server's streamable-HTTP endpoint
// (TCP with the bearer token), each driving a real workstation.

const runId = `mcp-${randomBytes(3).toString('hex')}`;
const docker = createDockerClient();
let root: string;
let workspace: string;
let env: Record<string, string>;
let api: NexoraClient;
let health: HealthBody;
let serverProcess: ReturnType<typeof spawn> | undefined;

const labelFilter = { label: [`dev.nexora.testrun=${runId}`] };

interface ToolResult {
  content: ({ type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string })[];
  isError?: boolean;
}

const textOf = (result: ToolResult): string => result.content.filter((part) => part.type === 'text').map((part) => (part as { text: string }).text).join('\n');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'marker.txt'), 'mcp workspace\n');
  writeFileSync(join(workspace, 'page.html'), '<!doctype html><title>MCP page</title><h1>Hello through MCP</h1><button onclick="document.querySelector(\'h1\').textContent=\'Clicked through MCP\'">Press me</button>');
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  for (const file of ['marker.txt', 'page.html']) chownSync(join(workspace, file), WORKSPACE_UID, WORKSPACE_GID);
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
  // One server with a TCP listener; `nexora mcp` finds it through the home's socket.
  serverProcess = spawn(process.execPath, [cliPath, 'serve', '--port', '0'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  api = new NexoraClient({ socketPath: serverFiles({ home: env.NEXORA_HOME ?? '', logs: join(env.NEXORA_HOME ?? '', 'logs') }).socket });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      health = await api.get<HealthBody>('/v1/health', { timeoutMs: 5000 });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}, 320_000);

afterAll(async () => {
  await runCli(['server', 'stop'], { env, timeoutMs: 120_000 }).catch(() => undefined);
  serverProcess?.kill('SIGKILL');
  api?.close();
  for (const container of await docker.listContainers({ all: true, filters: labelFilter })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await docker.getNetwork(`nexora-net-${runId}`).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 180_000);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function sessionStatus(id: string): Promise<string> {
  return (await api.get<{ session: { status: string } }>(`/v1/sessions/${id}`)).session.status;
}

function sessionIdIn(text: string): string {
  const id = /Session (ses_[A-Za-z0-9_-]+)/.exec(text)?.[1];
  expect(id, text).toBeDefined();
  return id ?? '';
}

describe('nexora mcp over stdio', () => {
  it('lists the tools, drives a workstation, answers bad input with a tool error, and stops the session on disconnect', { timeout: 600_000 }, async () => {
    let stderr = '';
    const transport = new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--workspace', workspace], env: { ...(process.env as Record<string, string>), ...env }, stderr: 'pipe' });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'nexora-test', version: '1.0.0' });
    await client.connect(transport);

    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of ['screen', 'keyboard', 'mouse', 'execute', 'session_start', 'session_stop', 'session_list', 'browser_navigate', 'browser_snapshot', 'browser_click', 'browser_screenshot']) expect(names).toContain(name);
    expect(names.filter((name) => name.startsWith('browser_')).length).toBe(11);
    // The agent's own schemas: keyboard's text/keys/waitFor/timeoutMs, execute's command required.
    const keyboard = tools.find((tool) => tool.name === 'keyboard');
    expect(Object.keys(keyboard?.inputSchema.properties ?? {}).sort()).toEqual(['keys', 'text', 'timeoutMs', 'waitFor']);
    expect(tools.find((tool) => tool.name === 'execute')?.inputSchema.required).toEqual(['command']);

    // The first tool call starts this client's session on the workspace.
    const executed = (await client.callTool({ name: 'execute', arguments: { command: 'cat /workspace/marker.txt; pwd' } })) as ToolResult;
    expect(executed.isError, textOf(executed)).toBeFalsy();
    expect(textOf(executed)).toContain('mcp workspace');
    expect(textOf(executed)).toMatch(/exit code 0/);
    const sessionId = /session (ses_[A-Za-z0-9_-]+) started/.exec(stderr)?.[1] ?? '';
    expect(sessionId, stderr).toMatch(/^ses_/);
    expect(await sessionStatus(sessionId)).toBe('active');

    const typed = (await client.callTool({ name: 'keyboard', arguments: { text: 'echo mcp-$((6*7))\n', waitFor: 'mcp-42' } })) as ToolResult;
    expect(typed.isError, textOf(typed)).toBeFalsy();
    expect(textOf(typed)).toMatch(/key presses sent; the text appeared/);

    const screen = (await client.callTool({ name: 'screen', arguments: {} })) as ToolResult;
    expect(screen.isError).toBeFalsy();
    const image = screen.content.find((part) => part.type === 'image') as { data: string; mimeType: string } | undefined;
    expect(image?.mimeType).toBe('image/png');
    expect(Buffer.from(image?.data ?? '', 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(textOf(screen)).toContain(`Session ${sessionId}`);
    expect(textOf(screen)).toMatch(/^mcp-42$/m);
    expect(textOf(screen)).toContain('<tool-output tool="screen">');

    // Bad input and failing commands are tool errors the calling model reads, not protocol errors.
    const empty = (await client.callTool({ name: 'keyboard', arguments: {} })) as ToolResult;
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toContain('give "text", "keys" or both');
    const wrongType = (await client.callTool({ name: 'mouse', arguments: { action: 'teleport', x: -1, y: 0 } })) as ToolResult;
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toMatch(/action|x/);
    const failed = (await client.callTool({ name: 'execute', arguments: { command: 'echo oops >&2; exit 3' } })) as ToolResult;
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toMatch(/exit code 3/);
    expect(textOf(failed)).toContain('oops');
    const unknownSession = (await client.callTool({ name: 'session_stop', arguments: { session: 'ses_doesnotexist' } })) as ToolResult;
    expect(unknownSession.isError).toBe(true);
    expect(textOf(unknownSession)).toMatch(/session-not-found|not found/i);

    const listed = (await client.callTool({ name: 'session_list', arguments: {} })) as ToolResult;
    expect(textOf(listed)).toContain(`${sessionId}  active`);
    expect(textOf(listed)).toContain('this client’s session');

    // The transcript resource of the client's session.
    const resources = await client.listResources();
    expect(resources.resources.map((resource) => resource.uri)).toContain(`nexora://sessions/${sessionId}/transcript`);
    const transcript = await client.readResource({ uri: `nexora://sessions/${sessionId}/transcript` });
    const first = transcript.contents[0] as { text?: string } | undefined;
    expect(typeof first?.text).toBe('string');

    await client.close();
    await waitFor('the session to end after the client disconnected', async () => ((await sessionStatus(sessionId)) === 'ended' ? true : undefined));
    await waitFor('its container to be removed', async () => ((await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`, `dev.nexora.session=${sessionId}`] } })).length === 0 ? true : undefined));
    expect(stderr).toContain(`session ${sessionId} stopped (client disconnected)`);
  });

  it('answers initialize and tools/list before any server runs; a server that cannot run sessions is a tool error', { timeout: 300_000 }, async () => {
    const brokenHome = join(root, 'broken-home');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, 'mcp', '--workspace', workspace],
      // A bad setting: the server this starts cannot open sessions, and says which setting.
      env: { ...(process.env as Record<string, string>), ...env, NEXORA_HOME: brokenHome, NEXORA_VNC_PORTS: 'lots' },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'nexora-test', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.listTools()).tools.length).toBeGreaterThan(15);
    const failed = (await client.callTool({ name: 'execute', arguments: { command: 'true' } })) as ToolResult;
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toMatch(/^The execute tool failed: .*NEXORA_VNC_PORTS=lots is not a valid port range/);
    // Still serving: the next call tries again and says the same.
    expect(((await client.callTool({ name: 'session_list', arguments: {} })) as ToolResult).isError).toBe(true);
    await client.close();
    await runCli(['server', 'stop'], { env: { ...env, NEXORA_HOME: brokenHome }, timeoutMs: 120_000 });
  });

  it('--session attaches to a running session and leaves it running', { timeout: 600_000 }, async () => {
    const started = await api.post<{ session: { id: string } }>('/v1/sessions', { workspaceDir: workspace, usePool: false }, { timeoutMs: 300_000 });
    const sessionId = started.session.id;
    const transport = new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--session', sessionId], env: { ...(process.env as Record<string, string>), ...env }, stderr: 'ignore' });
    const client = new Client({ name: 'nexora-test', version: '1.0.0' });
    await client.connect(transport);
    const executed = (await client.callTool({ name: 'execute', arguments: { command: 'echo attached' } })) as ToolResult;
    expect(textOf(executed)).toContain('attached');
    const screen = (await client.callTool({ name: 'screen', arguments: {} })) as ToolResult;
    expect(textOf(screen)).toContain(`Session ${sessionId}`);
    await client.close();
    // The mcp process has exited (the transport waits for it); the session it did not start still runs.
    expect(await sessionStatus(sessionId)).toBe('active');
    await api.post(`/v1/sessions/${sessionId}/stop`, {}, { timeoutMs: 120_000 });
  });
});

describe('the server’s streamable-HTTP MCP endpoint', () => {
  const url = (query: string) => new URL(`http://127.0.0.1:${health.tcp?.port ?? 0}/mcp${query}`);
  const token = () => readFileSync(serverFiles({ home: env.NEXORA_HOME ?? '', logs: '' }).token, 'utf8').trim();

  it('refuses a client without the token', async () => {
    expect(health.tcp?.port).toBeGreaterThan(0);
    const client = new Client({ name: 'nexora-test', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(url('')))).rejects.toThrow(/401|token|Unauthorized/i);
  });

  it('with the token: tools over TCP, a session per client, stopped when the client ends its MCP session', { timeout: 600_000 }, async () => {
    const transport = new StreamableHTTPClientTransport(url(`?workspace=${encodeURIComponent(workspace)}`), { requestInit: { headers: { authorization: `Bearer ${token()}` } } });
    const client = new Client({ name: 'nexora-test-http', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['screen', 'keyboard', 'mouse', 'execute', 'session_list', 'browser_navigate']));

    const started = (await client.callTool({ name: 'session_start', arguments: {} })) as ToolResult;
    expect(started.isError, textOf(started)).toBeFalsy();
    const sessionId = sessionIdIn(textOf(started));
    expect(textOf(started)).toContain(workspace);

    const executed = (await client.callTool({ name: 'execute', arguments: { command: 'ls /workspace' } })) as ToolResult;
    expect(textOf(executed)).toContain('marker.txt');
    const typed = (await client.callTool({ name: 'keyboard', arguments: { text: 'echo over-$((40+2))-http\n', waitFor: 'over-42-http' } })) as ToolResult;
    expect(typed.isError, textOf(typed)).toBeFalsy();
    const screen = (await client.callTool({ name: 'screen', arguments: {} })) as ToolResult;
    expect(textOf(screen)).toMatch(/^over-42-http$/m);
    expect(screen.content.some((part) => part.type === 'image')).toBe(true);

    // The browser tools over the session's shared Chromium (started on first use).
    const navigated = (await client.callTool({ name: 'browser_navigate', arguments: { url: 'file:///workspace/page.html' } })) as ToolResult;
    expect(navigated.isError, textOf(navigated)).toBeFalsy();
    const snapshot = (await client.callTool({ name: 'browser_snapshot', arguments: { full: true } })) as ToolResult;
    expect(textOf(snapshot)).toContain('Hello through MCP');
    const ref = /button "Press me" \[ref=(e\d+)\]/.exec(textOf(snapshot))?.[1];
    expect(ref, textOf(snapshot)).toBeDefined();
    const clicked = (await client.callTool({ name: 'browser_click', arguments: { ref } })) as ToolResult;
    expect(clicked.isError, textOf(clicked)).toBeFalsy();
    expect(textOf((await client.callTool({ name: 'browser_snapshot', arguments: { full: true } })) as ToolResult)).toContain('Clicked through MCP');
    const shot = (await client.callTool({ name: 'browser_screenshot', arguments: {} })) as ToolResult;
    expect(shot.content.some((part) => part.type === 'image' && part.mimeType === 'image/png')).toBe(true);
    const stale = (await client.callTool({ name: 'browser_click', arguments: { ref: 'e9999' } })) as ToolResult;
    expect(stale.isError).toBe(true);

    // A workspace the server's guard refuses comes back as a tool error.
    const refused = (await client.callTool({ name: 'session_start', arguments: { workspace: '/' } })) as ToolResult;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/unsafe-workspace|refus|not allowed|exposes/i);

    await transport.terminateSession();
    await client.close();
    await waitFor('the HTTP client’s session to end', async () => ((await sessionStatus(sessionId)) === 'ended' ? true : undefined));
  });
});
