import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFiles } from '../../src/client/server-files.js';
import { Nexora } from '../../src/sdk/nexora.js';
import { cliRun } from '../fixtures/cli-run.js';
import { cliPath } from '../fixtures/run-cli.js';
import { WORKSPACE_GID, WORKSPACE_UID } from '../fixtures/session-env.js';
import { textOf } from '../fixtures/mcp-result.js';

// Issue 20 finding 2(c) and issue 21: every door's stop runs the git-metadata check and says what
// it moved aside — here the two doors a model or a program uses directly: an MCP client's
// session_stop, and the SDK's session.stop(). The attack: a commondir pointing at a copy of the
// repository whose config runs a command (a marker file on the host) on the user's next `git status`.

const run = cliRun('git-doors');
let env: NodeJS.ProcessEnv;
let markers: string;

function repository(name: string): string {
  const dir = join(run.root, name);
  mkdirSync(dir);
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'start']);
  const chownTree = (path: string): void => {
    chownSync(path, WORKSPACE_UID, WORKSPACE_GID);
    if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry));
  };
  chownTree(dir);
  return dir;
}

const attack = (name: string): string =>
  `cd /workspace && mkdir -p .evil && cp -r .git/objects .git/refs .git/HEAD .evil/ && printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = touch ${join(markers, name)}\\n' > .evil/config && printf '../.evil\\n' > .git/commondir && echo planted`;

/** The user's own git on the host in the workspace, as a git-aware prompt runs it. */
function hostGitStatus(dir: string): void {
  try {
    execFileSync('git', ['-C', dir, 'status', '--short'], { stdio: 'ignore', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });
  } catch {
    // A broken repository is not the point; a command run on the host is.
  }
}

beforeAll(async () => {
  markers = join(run.root, 'host-only-markers');
  mkdirSync(markers);
  env = await run.sessionsEnv(join(run.root, 'home'));
  await run.startServer(env);
}, 320_000);

afterAll(async () => {
  await run.cleanUp();
}, 180_000);

describe('the stop of every door reports what the git check moved aside', () => {
  it("MCP: session_stop's answer names the neutralised commondir, and the user's git runs nothing", { timeout: 300_000 }, async () => {
    const workspace = repository('mcp');
    const client = new Client({ name: 'git-doors', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--workspace', workspace, '--approve', 'never'], env: env as Record<string, string>, stderr: 'ignore' }));
    try {
      // The policy is off: this door's stop is the point, not its approvals (test/attacks/mcp-approvals.test.ts).
      expect(textOf(await client.callTool({ name: 'execute', arguments: { command: attack('mcp') } }))).toMatch(/exit code 0[\s\S]*planted/);
      const stopped = textOf(await client.callTool({ name: 'session_stop', arguments: {} }));
      expect(stopped).toMatch(/stopped\./);
      expect(stopped).toMatch(/moved aside: \.git\/commondir → \.git\/commondir\.nexora-quarantine-/);
    } finally {
      await client.close();
    }
    expect(existsSync(join(workspace, '.git', 'commondir'))).toBe(false);
    hostGitStatus(workspace);
    expect(existsSync(join(markers, 'mcp'))).toBe(false);
  });

  it('SDK: session.stop() returns the git report with the neutralised commondir', { timeout: 300_000 }, async () => {
    const workspace = repository('sdk');
    const home = env.NEXORA_HOME ?? '';
    const nexora = await Nexora.connect({ env, address: { socketPath: serverFiles({ home, logs: join(home, 'logs') }).socket } });
    try {
      const session = await nexora.sessions.start({ workspace });
      expect((await session.execute(attack('sdk'))).stdout).toContain('planted');
      const stopped = await session.stop();
      expect(stopped.status).toBe('ended');
      expect(stopped.git?.neutralised.map((entry) => entry.path)).toContain('.git/commondir');
    } finally {
      nexora.close();
    }
    hostGitStatus(workspace);
    expect(existsSync(join(markers, 'sdk'))).toBe(false);
  });
});
