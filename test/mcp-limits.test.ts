import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRun } from './fixtures/cli-run.js';
import { cliPath } from './fixtures/run-cli.js';
import { WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';
import { textOf, type ToolResult } from './fixtures/mcp-result.js';

// Issue 21, item 5: no input size kills a connection. An MCP `execute` with a 1 MB command got
// "socket hang up (server-unavailable)"; at 10 MB `nexora mcp` exited 0 and the client lost it.

const run = cliRun('mcp-limits');
let client: Client;
let stderr = '';

beforeAll(async () => {
  const workspace = join(run.root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  const env = await run.sessionsEnv(join(run.root, 'home'));
  const transport = new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--workspace', workspace], env: env as Record<string, string>, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  client = new Client({ name: 'limits-test', version: '1.0.0' });
  await client.connect(transport);
}, 300_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await run.cleanUp();
}, 180_000);

describe('nexora mcp and large inputs', () => {
  it('answers a 10 MB argument with a size error, and the connection keeps working', async () => {
    const huge = client.callTool({ name: 'execute', arguments: { command: `echo ${'x'.repeat(10 * 1024 * 1024)}` } });
    await expect(huge).rejects.toThrow(/10\.0 MiB is over this server's limit of 4\.0 MiB/);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('execute');
    expect(stderr).toContain("over this server's limit");
  });

  it("answers a 1 MB command with the server's own size error, then runs the next command", { timeout: 300_000 }, async () => {
    const large = (await client.callTool({ name: 'execute', arguments: { command: `echo ${'y'.repeat(1024 * 1024)}` } })) as ToolResult;
    expect(large.isError).toBe(true);
    expect(textOf(large)).toMatch(/request body is larger than 1 MiB/);
    expect(textOf(large)).not.toMatch(/socket hang up|server-unavailable/);
    const next = (await client.callTool({ name: 'execute', arguments: { command: 'echo still-here' } })) as ToolResult;
    expect(textOf(next)).toContain('still-here');
  });
});
