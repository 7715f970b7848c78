import { chownSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRun } from './fixtures/cli-run.js';
import { runCli } from './fixtures/run-cli.js';
import type { ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';

// A web task end to end: `nexora run` (the built CLI) with a scripted model that starts a web
// app in the workstation, opens it in the browser, reads it, clicks, types, submits and checks
// the console, over two providers' wire formats. The scripted model checks every tool result
// it is sent, so a browser tool that answers wrongly fails the run.
const run = cliRun('browser-run');
const root = run.root;
const servers: ScriptedModelServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await run.cleanUp();
});

/** The refs Playwright gives the test app's button and name field (checked by the script before use). */
const addButton = 'e4';
const nameField = 'e6';

const script: ModelScriptInput = {
  name: 'browser-web-task',
  requireTools: ['browser_navigate', 'browser_snapshot', 'browser_click', 'browser_type', 'browser_console', 'execute'],
  turns: [
    {
      respond: {
        text: 'I start the app first.',
        toolCalls: [{ name: 'execute', input: { command: 'setsid python3 app.py 8000 >/tmp/app.log 2>&1 </dev/null & for i in $(seq 100); do curl -fsS -o /dev/null http://localhost:8000/ && echo up && exit 0; sleep 0.1; done; exit 1', timeoutMs: 30_000 } }],
      },
    },
    { expect: { toolResultIncludes: ['exit code 0', 'up'] }, respond: { toolCalls: [{ name: 'browser_navigate', input: { url: 'localhost:8000' } }] } },
    { expect: { toolResultIncludes: ['Chromium started', 'HTTP 200', 'Page: "Nexora test app"'] }, respond: { toolCalls: [{ name: 'browser_snapshot', input: {} }] } },
    {
      expect: { toolResultIncludes: [`button "Add one" [ref=${addButton}]`, `textbox "Your name" [ref=${nameField}]`, 'Clicked 0 times'] },
      respond: { toolCalls: [{ name: 'browser_click', input: { ref: addButton } }] },
    },
    { expect: { toolResultIncludes: [`Clicked ${addButton}`, 'Loaded and the network quiet'] }, respond: { toolCalls: [{ name: 'browser_snapshot', input: {} }] } },
    {
      expect: { toolResultIncludes: ['lines changed since your last snapshot', 'Clicked 1 times'] },
      respond: { toolCalls: [{ name: 'browser_type', input: { ref: nameField, text: 'Grace', submit: true } }] },
    },
    { expect: { toolResultIncludes: ['and pressed Enter', 'Page: "Greeting"', 'name=Grace'] }, respond: { toolCalls: [{ name: 'browser_console', input: {} }] } },
    { expect: { toolResultIncludes: ['console boom from the test app'] }, respond: { text: 'The app greets Grace after submitting the form; the console shows one error from the app itself.' } },
  ],
};

async function prepare(wire: 'anthropic' | 'openai'): Promise<{ workspace: string; env: NodeJS.ProcessEnv; server: ScriptedModelServer }> {
  const server = await ScriptedModelServer.start({ script, apiKey: 'browser-key-0123456789' });
  servers.push(server);
  const home = mkdtempSync(join(root, `home-${wire}-`));
  const workspace = mkdtempSync(join(root, `workspace-${wire}-`));
  mkdirSync(workspace, { recursive: true });
  copyFileSync(join(import.meta.dirname, 'fixtures/web-app/app.py'), join(workspace, 'app.py'));
  chownSync(workspace, 1000, 1000);
  chownSync(join(workspace, 'app.py'), 1000, 1000);
  // The provider lives in the user's own config (the trusted one), not in the workspace.
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({
      model: 'scripted/m',
      providers: { scripted: { kind: wire, baseUrl: wire === 'anthropic' ? server.anthropicBaseUrl : server.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY', ...(wire === 'openai' ? { api: 'chat' } : {}) } },
      models: { 'scripted/m': { capabilities: { tools: true, vision: true, imagesInToolResults: true, contextTokens: 200_000 }, prices: { input: 3, output: 15, cachedInput: 0.3 } } },
    }),
  );
  const env = await run.env(home, { SCRIPTED_API_KEY: 'browser-key-0123456789' });
  return { workspace, env, server };
}

describe.each(['anthropic', 'openai'] as const)('nexora run drives a web task in the browser over the %s wire format', (wire) => {
  it('starts the app, navigates, snapshots, clicks, types and submits, reads the console, and completes', async () => {
    const { workspace, env, server } = await prepare(wire);
    const result = await runCli(['run', 'Check that the app greets a user after submitting the form', '--workspace', workspace], { env, timeoutMs: 240_000 });
    expect(server.violations).toEqual([]);
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    expect(server.requests.length).toBe(script.turns.length);
    expect(result.stdout).toMatch(/→ browser_click \{"ref":"e\d+"\}/);
    expect(result.stdout).toMatch(/✓ completed/);
  }, 300_000);
});
