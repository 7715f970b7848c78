import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { NexoraError } from '../src/errors.js';
import { Nexora } from '../src/sdk/nexora.js';
import type { Session } from '../src/sdk/session.js';
import { cliRun } from './fixtures/cli-run.js';
import { eventually } from './fixtures/eventually.js';
import { cliPath, runCli } from './fixtures/run-cli.js';
import { WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';
import { ScriptedModelServer } from './model-server/server.js';
import { writeScriptedConfig } from './model-server/user-config.js';

// Issue 21, item 1: one input gate in the live session, at every door. While a person holds
// control, keyboard and mouse input from the API, the SDK, an MCP client and an agent run does
// not reach the terminal, and each ends in control-held after its own timeout; after hand-back
// it goes through. Nothing typed after the take was acknowledged is delivered.

const run = cliRun('take-over');
let env: NodeJS.ProcessEnv;
let api: NexoraClient;
let nexora: Nexora;
let session: Session;
let model: ScriptedModelServer;
let workspace: string;

const terminal = async (): Promise<string> => (await api.get<{ text: string }>(`/v1/sessions/${session.id}/terminal`)).text;
const control = (action: 'take' | 'hand-back'): Promise<{ holder: string }> => api.post(`/v1/sessions/${session.id}/control`, { action });

beforeAll(async () => {
  workspace = join(run.root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  model = await ScriptedModelServer.start({
    apiKey: 'take-over-key-0123456789',
    script: {
      name: 'held',
      turns: [
        { respond: { toolCalls: [{ name: 'keyboard', input: { text: 'echo agent-held-marker\n', timeoutMs: 400 } }] } },
        { expect: { toolResultIncludes: ['holds control of the display'] }, respond: { toolCalls: [{ name: 'mouse', input: { action: 'click', x: 10, y: 10 } }] } },
        { expect: { toolResultIncludes: ['holds control of the display'] }, respond: { text: 'A person has the display; stopping.' } },
      ],
    },
  });
  const home = join(run.root, 'home');
  mkdirSync(home);
  writeScriptedConfig(home, model);
  env = await run.sessionsEnv(home, { SCRIPTED_API_KEY: 'take-over-key-0123456789' });
  // The built server (the SDK from the sources would start its own from them).
  await run.startServer(env);
  const socketPath = serverFiles({ home, logs: join(home, 'logs') }).socket;
  nexora = await Nexora.connect({ env, address: { socketPath } });
  session = await nexora.sessions.start({ workspace });
  api = new NexoraClient({ socketPath });
  await session.keyboard({ text: 'clear\n', waitFor: 'input', waitMs: 20_000 });
}, 600_000);

afterAll(async () => {
  api?.close();
  nexora?.close();
  await model?.close();
  await run.cleanUp();
}, 180_000);

/** The held call's refusal: control-held, naming the person, after about its own timeout. */
async function refusedAfter<T>(timeoutMs: number, call: () => Promise<T>): Promise<string> {
  const startedAt = Date.now();
  const error = await call().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  const waited = Date.now() - startedAt;
  expect(error, 'the call went through while a person held control').toBeDefined();
  expect(waited).toBeGreaterThanOrEqual(timeoutMs - 50);
  return error instanceof Error ? `${error.message} ${NexoraError.is(error) ? error.code : ''}` : String(error);
}

describe('while a person holds control', () => {
  it('no door delivers input, each ends in control-held after its own timeout, and after hand-back input goes through', { timeout: 300_000 }, async () => {
    expect(await control('take')).toEqual({ holder: 'person' });
    try {

    // API
    const viaApi = await refusedAfter(300, () => api.post(`/v1/sessions/${session.id}/keyboard`, { text: 'echo api-held-marker\n', timeoutMs: 300 }));
    expect(viaApi).toMatch(/a person through the API \(since .*\) holds control of the display: this keyboard call waited \d+ ms and was not delivered.*control-held/);
    // SDK, keyboard and mouse (the mouse waits the default 5 s)
    expect(await refusedAfter(300, () => session.keyboard({ text: 'echo sdk-held-marker\n', waitMs: 300 }))).toMatch(/holds control.*control-held/);
    expect(await refusedAfter(5000, () => session.mouse({ action: 'click', x: 5, y: 5 }))).toMatch(/this mouse call waited.*control-held/);
    // MCP (stdio), attached to the session
    const mcp = new Client({ name: 'take-over', version: '1.0.0' });
    await mcp.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', '--session', session.id, '--approve', 'never'], env: env as Record<string, string>, stderr: 'ignore' }));
    try {
      const typed = (await mcp.callTool({ name: 'keyboard', arguments: { text: 'echo mcp-held-marker\n', timeoutMs: 300 } })) as { isError?: boolean; content: { text?: string }[] };
      expect(typed.isError).toBe(true);
      expect(typed.content.map((part) => part.text).join('')).toMatch(/holds control of the display.*\(control-held\)/);
    } finally {
      await mcp.close();
    }
    // An agent run on the same session (its scripted model checks the two refusals it got)
    // The policy is off: the gate is the point here, not what needs a yes.
    const agent = await runCli(['run', '--session', session.id, '--max-steps', '5', '--approve', 'never', 'type something'], { env, timeoutMs: 240_000 });
    expect(agent.stdout + agent.stderr).toMatch(/A person has the display; stopping/);
    expect(model.violations).toEqual([]);
    expect(model.turnsPlayed).toBe(3);

    // None of it reached the terminal (every call above has settled).
    const text = await terminal();
    for (const marker of ['api-held-marker', 'sdk-held-marker', 'mcp-held-marker', 'agent-held-marker']) expect(text).not.toContain(marker);
    } finally {
      expect(await control('hand-back')).toEqual({ holder: 'agent' });
    }
    await session.keyboard({ text: 'echo after-hand-back\n', waitFor: 'input', waitMs: 10_000 });
    await eventually(terminal, (text) => /^after-hand-back$/m.test(text), 'the keys typed after hand-back on the terminal');
  });

  it('nothing typed after the take is acknowledged is delivered: a typing loop is cut off at the take', { timeout: 120_000 }, async () => {
    await session.keyboard({ text: 'clear\n', waitFor: 'input', waitMs: 10_000 });
    let acknowledgedAt = Infinity;
    const sent: { token: string; at: number; delivered: boolean }[] = [];
    let stop = false;
    const typing = (async () => {
      for (let index = 0; !stop && index < 400; index++) {
        const token = `t${String(index).padStart(3, '0')}x`;
        const at = Date.now();
        const delivered = await session.keyboard({ text: `${token} `, waitMs: 50 }).then(
          () => true,
          (error: unknown) => {
            if (!NexoraError.is(error, 'control-held')) throw error;
            return false;
          },
        );
        sent.push({ token, at, delivered });
      }
    })();
    await eventually(() => Promise.resolve(sent.filter((entry) => entry.delivered).length), (count) => count > 3, 'the loop typing');
    await control('take');
    acknowledgedAt = Date.now();
    await eventually(() => Promise.resolve(sent.filter((entry) => entry.at > acknowledgedAt).length), (count) => count > 2, 'calls sent after the take');
    stop = true;
    await typing;
    const text = await terminal();
    const late = sent.filter((entry) => entry.at > acknowledgedAt);
    for (const entry of late) {
      expect(entry.delivered, entry.token).toBe(false);
      expect(text, entry.token).not.toContain(entry.token);
    }
    // The calls before the take went through, so the loop really was typing.
    expect(text).toContain(sent[0]!.token);
    await control('hand-back');
    await session.keyboard({ keys: ['ctrl+c'], waitMs: 2000 });
  });
});
