import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../src/agent/events.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { NexoraError } from '../src/errors.js';
import { serverFiles } from '../src/client/server-files.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage } from './fixtures/session-env.js';
import { ScriptedModelServer } from './model-server/server.js';

/**
 * Runs in the server as another program sees them: started over the API, typed events
 * streamed back, approval questions put to the client and answered through the API, and the
 * conversation, model, screenshot and git routes an interactive client (the TUI) uses.
 */
const root = mkdtempSync(join(tmpdir(), 'nexora-server-runs-'));
const home = join(root, 'home');
const workspace = join(root, 'workspace');
const runId = `srvruns-${randomBytes(3).toString('hex')}`;
let env: NodeJS.ProcessEnv;
let model: ScriptedModelServer;
let client: NexoraClient;

beforeAll(async () => {
  mkdirSync(workspace);
  chownSync(workspace, 1000, 1000);
  model = await ScriptedModelServer.start({
    apiKey: 'runs-key-0123456789',
    script: {
      name: 'approvals',
      turns: [
        { respond: { text: 'Writing the file.', toolCalls: [{ name: 'execute', input: { command: 'echo approved > /workspace/approved.txt' } }] } },
        { expect: { toolResultIncludes: ['exit code 0'] }, respond: { toolCalls: [{ name: 'execute', input: { command: 'touch /workspace/refused.txt' } }] } },
        { expect: { toolResultIncludes: ['Not run:', 'it was refused: not this one'] }, respond: { text: 'Done; the second command was refused.' } },
        // The second run (no one to ask): refused without a question.
        { respond: { toolCalls: [{ name: 'execute', input: { command: 'touch /workspace/refused.txt' } }] } },
        { expect: { toolResultIncludes: ['Not run:'] }, respond: { text: 'It was refused.' } },
        // The third run: answered by a person in the web view.
        { respond: { toolCalls: [{ name: 'execute', input: { command: "echo '<b>bold</b>' > /workspace/page.txt" } }] } },
        { expect: { toolResultIncludes: ['exit code 0'] }, respond: { text: 'Written after the yes from the page.' } },
        // The fourth run (nexora run beside nexora view): a command that takes a while.
        { respond: { toolCalls: [{ name: 'execute', input: { command: 'sleep 4; echo slept' } }] } },
        { expect: { toolResultIncludes: ['slept'] }, respond: { text: 'Slept.' } },
      ],
    },
  });
  mkdirSync(home);
  // The endpoint is the user's own choice (their config), not a workspace file's.
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({
      model: 'scripted/m',
      providers: { scripted: { kind: 'anthropic', baseUrl: model.anthropicBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
      models: { 'scripted/m': { capabilities: { vision: true }, prices: { input: 3, output: 15, cachedInput: 0.3 } } },
    }),
  );
  env = {
    ...process.env,
    NEXORA_HOME: home,
    DATABASE_URL: '',
    SCRIPTED_API_KEY: 'runs-key-0123456789',
    NEXORA_WORKSTATION_IMAGE: await testImage(createDockerClient()),
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
  };
  const started = await runCli(['server', 'start'], { env, timeoutMs: 300_000 });
  if (started.code !== 0) throw new Error(`nexora server start failed: ${started.stderr}`);
  client = new NexoraClient({ socketPath: serverFiles({ home, logs: join(home, 'logs') }).socket });
});

afterAll(async () => {
  client?.close();
  await runCli(['server', 'stop'], { env, timeoutMs: 60_000 }).catch(() => undefined);
  await model?.close();
  const docker = createDockerClient();
  for (const container of await docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const network of await docker.listNetworks({ filters: { label: [`dev.nexora.testrun=${runId}`] } }).catch(() => [])) {
    await docker.getNetwork(network.Id).remove().catch(() => undefined);
  }
  rmSync(root, { recursive: true, force: true });
});

describe('a run in the server', () => {
  it('puts each command that needs a yes to its client, runs the approved one and refuses the other', async () => {
    const events: AgentEvent[] = [];
    const questions: { id: string; command: string; reasons: string[] }[] = [];
    const waiting: unknown[] = [];
    let outcome: { outcome: string; sessionId: string } | undefined;
    let runIdSeen = '';
    const answers: Promise<unknown>[] = [];
    await client.stream(
      'POST',
      '/v1/runs',
      { task: 'write a file, then try another', workspace, approve: 'always', interactive: true, events: true, keep: true, env: { SCRIPTED_API_KEY: 'runs-key-0123456789' } },
      ({ event, data }) => {
        if (event === 'run') runIdSeen = (data as { id: string }).id;
        if (event === 'agent') events.push((data as { event: AgentEvent }).event);
        if (event === 'end') outcome = data as { outcome: string; sessionId: string };
        if (event === 'error') throw new Error(`the run failed: ${JSON.stringify(data)}`);
        if (event === 'approval') {
          const question = data as { id: string; command: string; reasons: string[] };
          questions.push(question);
          // Another client sees what the run waits for.
          answers.push(
            client.get<{ runs: { id: string; waitingFor: { approval: string }[] }[] }>('/v1/runs').then(async ({ runs }) => {
              waiting.push(runs.find((run) => run.id === runIdSeen)?.waitingFor.map((item) => item.approval));
              const first = questions.length === 1;
              return client.post(`/v1/runs/${runIdSeen}/approvals/${question.id}`, first ? { approved: true } : { approved: false, reason: 'not this one' });
            }),
          );
        }
      },
    );
    await Promise.all(answers);
    expect(questions.map((question) => question.command)).toEqual(['echo approved > /workspace/approved.txt', 'touch /workspace/refused.txt']);
    expect(waiting).toEqual([[questions[0]?.id], [questions[1]?.id]]);
    expect(outcome?.outcome).toBe('completed');
    expect(events[0]?.type).toBe('run-start');
    expect(events.at(-1)?.type).toBe('run-end');
    expect(events.filter((event) => event.type === 'tool-call-end')).toHaveLength(2);
    expect(readFileSync(join(workspace, 'approved.txt'), 'utf8')).toBe('approved\n');
    expect(existsSync(join(workspace, 'refused.txt'))).toBe(false);
    // An answer to a question that is no longer open is refused with a clear error.
    await expect(client.post(`/v1/runs/${runIdSeen}/approvals/${questions[0]?.id ?? ''}`, { approved: true })).rejects.toMatchObject({ code: 'not-found' });
    await expect(client.post(`/v1/runs/${runIdSeen}/approvals/nope`, { approved: true })).rejects.toMatchObject({ code: 'invalid-argument' });

    // What an interactive client reads next: the conversation, the models, a screenshot, the git report.
    const sessionId = outcome?.sessionId ?? '';
    const { conversations } = await client.get<{ conversations: { sessionId: string; task: string }[] }>(`/v1/conversations?workspace=${encodeURIComponent(workspace)}`);
    expect(conversations).toEqual([expect.objectContaining({ sessionId, task: 'write a file, then try another' })]);
    const { models } = await client.post<{ models: string[] }>('/v1/models', { env: { SCRIPTED_API_KEY: 'runs-key-0123456789' } });
    expect(models).toContain('scripted/m');
    const unknown = await client.post('/v1/models', { model: 'nosuch/model', env: {} }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(NexoraError.is(unknown) && /nosuch/.test(unknown.message)).toBe(true);
    const { path } = await client.post<{ path: string }>(`/v1/sessions/${sessionId}/screenshots`, {});
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    const terminal = await client.get<{ text: string }>(`/v1/sessions/${sessionId}/terminal?windowOnly=1`);
    expect(terminal.text).not.toMatch(/^\[main\] /m);
    await client.post(`/v1/sessions/${sessionId}/stop`, {}, { timeoutMs: 120_000 });
  });

  it('refuses commands that need a yes when the client does not answer questions', async () => {
    const ended: { outcome?: string } = {};
    await client.stream(
      'POST',
      '/v1/runs',
      { task: 'try a command without anyone to ask', workspace, approve: 'always', env: { SCRIPTED_API_KEY: 'runs-key-0123456789' } },
      ({ event, data }) => {
        if (event === 'approval') throw new Error('a non-interactive run must not ask');
        if (event === 'end') ended.outcome = (data as { outcome: string }).outcome;
      },
    );
    expect(ended.outcome).toBe('completed');
    expect(existsSync(join(workspace, 'refused.txt'))).toBe(false);
  });

  it('lets a person answer the question in the web view, showing the command as text', async () => {
    let runIdSeen = '';
    let sessionId = '';
    let question: { id: string } | undefined;
    let outcome: string | undefined;
    const browser = await chromium.launch({ executablePath: process.env.NEXORA_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      let opened: Promise<unknown> | undefined;
      // Interactive, but this client never answers: the person does, in the page.
      await client.stream(
        'POST',
        '/v1/runs',
        { task: 'write a file with markup in it', workspace, approve: 'always', interactive: true, keep: true, env: { SCRIPTED_API_KEY: 'runs-key-0123456789' } },
        ({ event, data }) => {
          if (event === 'run') runIdSeen = (data as { id: string }).id;
          if (event === 'end') outcome = (data as { outcome: string }).outcome;
          if (event === 'approval') {
            question = data as { id: string };
            opened = (async () => {
              const { runs } = await client.get<{ runs: { id: string; sessionId: string }[] }>('/v1/runs');
              sessionId = runs.find((run) => run.id === runIdSeen)?.sessionId ?? '';
              const { url } = await client.get<{ url: string }>(`/v1/view?session=${sessionId}`, { timeoutMs: 120_000 });
              await page.goto(url);
              const allow = page.locator(`#approvals button[data-approval="${question?.id ?? ''}"][data-answer="allow"]`);
              await allow.waitFor({ timeout: 60_000 });
              expect(await page.locator('#approvals code').textContent()).toBe("echo '<b>bold</b>' > /workspace/page.txt");
              expect(await page.locator('#approvals b').count()).toBe(0);
              await allow.click();
            })();
          }
        },
      );
      await opened;
      expect(question).toBeDefined();
      expect(outcome).toBe('completed');
      expect(readFileSync(join(workspace, 'page.txt'), 'utf8')).toBe('<b>bold</b>\n');
      // Answered: the page's list empties, and the question is gone from the API.
      await page.locator('#approvals').waitFor({ state: 'hidden', timeout: 30_000 });
      const { runs } = await client.get<{ runs: { id: string }[] }>('/v1/runs');
      expect(runs.find((run) => run.id === runIdSeen)).toBeUndefined();
      await client.post(`/v1/sessions/${sessionId}/stop`, {}, { timeoutMs: 120_000 });
    } finally {
      await browser.close();
    }
  });

  it('nexora run and nexora view at once on the default embedded store, on the same session', async () => {
    const run = runCli(['run', 'sleep a little', '--workspace', workspace, '--keep'], { env, timeoutMs: 300_000 });
    // The run's session, once it is active.
    let sessionId = '';
    const deadline = Date.now() + 120_000;
    while (!sessionId && Date.now() < deadline) {
      const listed = await runCli(['session', 'list', '--json'], { env, timeoutMs: 60_000 });
      expect(listed.code, listed.stderr).toBe(0);
      const sessions = JSON.parse(listed.stdout) as { id: string; status: string; workspaceDir: string }[];
      const running = (await client.get<{ runs: { sessionId?: string }[] }>('/v1/runs')).runs.map((item) => item.sessionId);
      sessionId = sessions.find((session) => session.status === 'active' && running.includes(session.id))?.id ?? '';
      if (!sessionId) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(sessionId).toMatch(/^ses_/);
    const view = await runCli(['view', sessionId, '--no-open'], { env, timeoutMs: 120_000 });
    expect(view.code, view.stderr).toBe(0);
    const url = /Web view: (\S+)/.exec(view.stdout)?.[1] ?? '';
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const base = url.replace(/#.*$/, '');
    const events = (await (await fetch(`${base}api/sessions/${sessionId}/events`)).json()) as { events: { kind: string }[] };
    expect(events.events.some((event) => event.kind === 'run-start')).toBe(true);
    const finished = await run;
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('Slept.');
    await client.post(`/v1/sessions/${sessionId}/stop`, {}, { timeoutMs: 120_000 });
  });
});
