import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRun } from '../fixtures/cli-run.js';
import { cliPath } from '../fixtures/run-cli.js';
import { WORKSPACE_GID, WORKSPACE_UID } from '../fixtures/session-env.js';
import { textOf, type ToolResult } from '../fixtures/mcp-result.js';

// Issue 21 item 3, played as the attacker: the model behind an MCP client tries to delete a
// file of the project through `execute` and by typing it at the terminal. Under the user's
// approval policy (`risky`), as for the agent's own runs: refused when the client cannot ask its
// user (the file stays), asked through the client when it can (elicitation), done only on a yes.

const run = cliRun('mcp-approvals');
let env: NodeJS.ProcessEnv;
const clients: Client[] = [];

function workspace(name: string): string {
  const dir = join(run.root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'victim'), 'keep me\n');
  chownSync(dir, WORKSPACE_UID, WORKSPACE_GID);
  chownSync(join(dir, 'victim'), WORKSPACE_UID, WORKSPACE_GID);
  return dir;
}

async function connect(dir: string, answer?: (message: string) => boolean): Promise<{ client: Client; asked: string[] }> {
  const asked: string[] = [];
  const client = new Client({ name: 'approvals-test', version: '1.0.0' }, answer ? { capabilities: { elicitation: {} } } : {});
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      const message = String(request.params.message);
      asked.push(message);
      return answer(message) ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
    });
  }
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--workspace', dir, '--approve', 'risky'], env: env as Record<string, string>, stderr: 'ignore' }));
  clients.push(client);
  return { client, asked };
}

beforeAll(async () => {
  env = await run.sessionsEnv(join(run.root, 'home'));
  await run.startServer(env);
}, 320_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await run.cleanUp();
}, 180_000);

describe('MCP under the approval policy', () => {
  it('a client that cannot ask its user: execute and a typed line that delete a file are refused, and the file stays', { timeout: 300_000 }, async () => {
    const dir = workspace('no-elicitation');
    const { client } = await connect(dir);
    const viaExecute = (await client.callTool({ name: 'execute', arguments: { command: 'x=rm; $x -f /workspace/victim' } })) as ToolResult;
    expect(viaExecute.isError).toBe(true);
    expect(textOf(viaExecute)).toMatch(/^Not run: .*needs a person's approval .*"risky".*cannot ask its user/s);
    const viaTerminal = (await client.callTool({ name: 'keyboard', arguments: { text: 'cd /workspace && rm -f victim\n', timeoutMs: 3000 } })) as ToolResult;
    expect(viaTerminal.isError).toBe(true);
    expect(textOf(viaTerminal)).toMatch(/Not run: submitting the command line/);
    // A harmless command still runs.
    expect(textOf(await client.callTool({ name: 'execute', arguments: { command: 'cat /workspace/victim' } }))).toContain('keep me');
    expect(existsSync(join(dir, 'victim'))).toBe(true);
  });

  it('a client that can ask: the user is asked with the exact command; no keeps the file, yes runs it', { timeout: 300_000 }, async () => {
    const dir = workspace('elicitation');
    let allow = false;
    const { client, asked } = await connect(dir, () => allow);
    const declined = (await client.callTool({ name: 'execute', arguments: { command: 'rm -f /workspace/victim' } })) as ToolResult;
    expect(declined.isError).toBe(true);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('rm -f /workspace/victim');
    expect(existsSync(join(dir, 'victim'))).toBe(true);
    allow = true;
    const approved = (await client.callTool({ name: 'execute', arguments: { command: 'rm -f /workspace/victim' } })) as ToolResult;
    expect(approved.isError ?? false).toBe(false);
    expect(asked).toHaveLength(2);
    expect(existsSync(join(dir, 'victim'))).toBe(false);
  });
});
