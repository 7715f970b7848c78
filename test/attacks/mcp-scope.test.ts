import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRun } from '../fixtures/cli-run.js';
import { cliPath, runCli } from '../fixtures/run-cli.js';
import { WORKSPACE_GID, WORKSPACE_UID } from '../fixtures/session-env.js';
import { textOf, type ToolResult } from '../fixtures/mcp-result.js';

// Issue 21 item 3 (an MCP client read other projects' sessions), played as the attacker: the
// model behind one MCP connection tries to list, read, drive and stop the session another
// connection started on another workspace of the same server. It sees nothing of it.

const run = cliRun('mcp-scope');
let env: NodeJS.ProcessEnv;
const clients: Client[] = [];

async function connect(workspace: string): Promise<{ client: Client; sessionId: string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--workspace', workspace], env: env as Record<string, string>, stderr: 'ignore' });
  const client = new Client({ name: 'scope-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  const started = textOf(await client.callTool({ name: 'session_start', arguments: {} }));
  const sessionId = /Session (ses_[A-Za-z0-9_-]+)/.exec(started)?.[1];
  expect(sessionId, started).toBeDefined();
  return { client, sessionId: sessionId! };
}

function workspace(name: string): string {
  const dir = join(run.root, name);
  mkdirSync(dir);
  chownSync(dir, WORKSPACE_UID, WORKSPACE_GID);
  return dir;
}

let alice: { client: Client; sessionId: string };
let mallory: { client: Client; sessionId: string };

beforeAll(async () => {
  env = await run.sessionsEnv(join(run.root, 'home'));
  alice = await connect(workspace('alice-project'));
  mallory = await connect(workspace('mallory-project'));
}, 600_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await run.cleanUp();
}, 180_000);

describe('two MCP connections on one server', () => {
  it('lists only its own session, even with all: true', async () => {
    for (const args of [{}, { all: true }]) {
      const listed = textOf(await mallory.client.callTool({ name: 'session_list', arguments: args }));
      expect(listed).toContain(mallory.sessionId);
      expect(listed).not.toContain(alice.sessionId);
      expect(listed).not.toContain('alice-project');
    }
  });

  it("neither lists nor reads the other's transcript", async () => {
    const { resources } = await mallory.client.listResources();
    expect(resources.map((resource) => resource.uri).join(' ')).not.toContain(alice.sessionId);
    const read = mallory.client.readResource({ uri: `nexora://sessions/${alice.sessionId}/transcript` });
    await expect(read).rejects.toThrow(/No session/);
    // Its own it reads.
    const own = await mallory.client.readResource({ uri: `nexora://sessions/${mallory.sessionId}/transcript` });
    expect(JSON.stringify(own.contents)).toContain('session-create');
  });

  it('cannot stop the other session, which keeps running', async () => {
    const stopped = (await mallory.client.callTool({ name: 'session_stop', arguments: { session: alice.sessionId } })) as ToolResult;
    expect(stopped.isError).toBe(true);
    expect(textOf(stopped)).toMatch(/No session .* in this MCP connection/);
    const listed = await runCli(['session', 'list'], { env, timeoutMs: 60_000 });
    expect(listed.stdout).toMatch(new RegExp(`${alice.sessionId}\\s+active`));
  });

  it("drives only its own workstation: its commands see its own workspace, never the other's", async () => {
    await alice.client.callTool({ name: 'execute', arguments: { command: 'echo alice-was-here > /workspace/owner.txt' } });
    const seen = textOf(await mallory.client.callTool({ name: 'execute', arguments: { command: 'cat /workspace/owner.txt 2>&1; ls /workspace' } }));
    expect(seen).not.toContain('alice-was-here');
    expect(seen).toMatch(/No such file/);
  });
});
