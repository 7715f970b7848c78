import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../src/agent/events.js';
import { demoMainGo, demoMainGoEdited } from '../src/jobs/demo.js';
import type { RunFlags } from '../src/jobs/run-flags.js';
import { runTask, type RunTaskDependencies } from '../src/jobs/run-task.js';
import { EventStore, SessionStore, type Db, type SessionId } from '../src/store/index.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';
import { loadFixture, type ModelScript, type ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';

/**
 * End to end: `nexora run`'s code path (runTask) on a real workstation with the real tools,
 * the real AI SDK clients talking HTTP to the scripted model server, and the real store.
 * The model plays the seed's "Typical Workflow Example"; the file on the host must end up
 * exactly right.
 */
let world: SessionEnv;
let db: Db;
const servers: ScriptedModelServer[] = [];
const savedEnv = { home: process.env.NEXORA_HOME, key: process.env.SCRIPTED_API_KEY };

beforeAll(async () => {
  world = await createSessionEnv('agent');
  // runTask reads the user config and the key store from NEXORA_HOME: this run's own.
  process.env.NEXORA_HOME = world.home;
  process.env.SCRIPTED_API_KEY = 'scripted-key-0123456789';
  const opened = await world.open();
  db = opened.db;
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await world?.dispose();
  restoreEnv('NEXORA_HOME', savedEnv.home);
  restoreEnv('SCRIPTED_API_KEY', savedEnv.key);
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

type Wire = 'anthropic' | 'openai' | 'responses' | 'google';

/** A workspace with main.go, and the user config pointing the "scripted" provider at the server. */
async function prepare(options: {
  wire: Wire;
  script: ModelScript | ModelScriptInput;
  vision: boolean;
  imageSize?: { width: number; height: number };
}): Promise<{ workspace: string; server: ScriptedModelServer }> {
  const server = await ScriptedModelServer.start({ script: options.script, apiKey: 'scripted-key-0123456789' });
  servers.push(server);
  const workspace = world.workspace();
  // uid 1000, the image's own user: with another uid (the fixture's 4242) HOME in the
  // workstation is not writable and `go run` cannot create its build cache (reported).
  chownSync(workspace, 1000, 1000);
  const mainGo = join(workspace, 'main.go');
  writeFileSync(mainGo, demoMainGo);
  chownSync(mainGo, 1000, 1000);
  const config = {
    model: 'scripted/model-under-test',
    providers: {
      scripted: {
        kind: options.wire === 'anthropic' || options.wire === 'google' ? options.wire : 'openai',
        baseUrl: server.openAiBaseUrl,
        apiKeyEnv: 'SCRIPTED_API_KEY',
        ...(options.wire === 'openai' ? { api: 'chat' } : options.wire === 'responses' ? { api: 'responses' } : {}),
      },
    },
    models: {
      'scripted/model-under-test': {
        capabilities: { tools: true, vision: options.vision, imagesInToolResults: true, contextTokens: 200_000 },
        prices: { input: 3, output: 15, cachedInput: 0.3 },
        ...(options.imageSize ? { imageSize: options.imageSize } : {}),
      },
    },
    retry: { maxRetries: 1, initialDelayMs: 100, maxDelayMs: 2000 },
  };
  // Endpoints and key variables are the user's to choose: this run's user config, not the workspace's nexora.json.
  writeFileSync(join(world.home, 'config.json'), JSON.stringify(config, null, 2));
  return { workspace, server };
}

function dependencies(extra: Partial<RunTaskDependencies> = {}): RunTaskDependencies & { output: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { db, openManager: (store) => world.open({ db: store }), stdout, output: () => text, ...extra };
}

function flags(workspace: string, extra: Partial<RunFlags> = {}): RunFlags {
  return { task: 'Add error handling to process_data function', workspace, json: true, ...extra };
}

async function sessionEvents(sessionId: SessionId) {
  return new EventStore(db).list(sessionId, { limit: 10_000 });
}

/** Command lines of every process in the session's container. */
async function containerProcesses(sessionId: SessionId): Promise<string[]> {
  const session = await new SessionStore(db).get(sessionId);
  // `top`, not an exec: it also answers for a paused (parked) workstation, which an exec refuses.
  const top = (await world.docker.getContainer(session.containerId ?? '').top()) as { Titles: string[]; Processes: string[][] };
  const cmd = top.Titles.indexOf('CMD');
  return top.Processes.map((row) => row[cmd] ?? row.join(' '));
}

describe.each([
  ['anthropic', true],
  ['openai', false],
  ['responses', true],
  ['google', true],
] as const)('nexora run: the seed workflow over the %s wire format (vision %s)', (wire, vision) => {
  it('edits main.go in vi on a real workstation, runs it, and reports success', async () => {
    const script = await loadFixture('vi-process-data');
    // The screen() turn: a vision model must get the PNG, a text-only one must get none.
    const screenTurn = script.turns[5];
    if (screenTurn && 'respond' in screenTurn) screenTurn.expect = { ...screenTurn.expect, imageAttached: vision };
    const { workspace, server } = await prepare({ wire, script: { ...script, forbidImages: !vision }, vision });
    const deps = dependencies();
    const result = await runTask(flags(workspace), deps);

    expect(server.violations).toEqual([]);
    expect(result.outcome, `${result.reason}\n${deps.output().slice(-3000)}`).toBe('completed');
    expect(readFileSync(join(workspace, 'main.go'), 'utf8')).toBe(demoMainGoEdited);
    expect(server.turnsPlayed).toBe(script.turns.length);
    expect(result.steps).toBe(8);
    expect(result.cost.usd).toBeCloseTo(0.034995, 6);
    // Parked, not stopped: paused and kept for --continue until its idle time is up.
    expect(result.sessionStopped).toBe(false);
    expect(result.keptUntil).toBeInstanceOf(Date);
    // The cost is stored on the session itself, step by step.
    const usage = await new SessionStore(db).usage(result.sessionId);
    expect(usage.usd).toBeCloseTo(result.cost.usd, 6);
    expect(usage.inputTokens).toBe(result.cost.inputTokens);
    expect(usage.outputTokens).toBe(result.cost.outputTokens);

    const shots = server.requests.flatMap((request) =>
      (request.normalized?.messages ?? []).flatMap((message) => message.parts.flatMap((part) => [...(part.image ? [part.image] : []), ...(part.images ?? [])])),
    );
    if (vision) {
      expect(shots.length).toBeGreaterThan(0);
      expect(shots.every((shot) => shot.validPng && shot.bytes > 1000)).toBe(true);
    } else {
      expect(shots).toEqual([]);
    }

    const events = await sessionEvents(result.sessionId);
    const kinds = events.map((event) => event.kind);
    expect(kinds.filter((kind) => kind === 'tool-call-start')).toHaveLength(10);
    expect(kinds.filter((kind) => kind === 'tool-call-end')).toHaveLength(10);
    expect(kinds.filter((kind) => kind === 'step-end')).toHaveLength(8);
    expect(events.find((event) => event.kind === 'run-end')?.payload).toMatchObject({ outcome: 'completed', steps: 8 });
    const executeEnd = events.find((event) => event.kind === 'tool-call-end' && (event.payload as { toolName: string }).toolName === 'execute');
    expect((executeEnd?.payload as { summary: string }).summary).toMatch(/^exit code 0/);
    // The API key never reaches the events table.
    expect(JSON.stringify(events)).not.toContain('scripted-key-0123456789');
    // Parked, not ended: still active, its workstation paused until the idle time is up.
    expect((await new SessionStore(db).get(result.sessionId)).status).toBe('active');
    expect((await new SessionStore(db).extras(result.sessionId))?.keptUntil).toEqual(result.keptUntil);

    // The JSON-lines log ends with the summary.
    const lines = deps.output().trim().split('\n').map((line) => JSON.parse(line) as { type: string; outcome?: string });
    expect(lines.at(-1)).toMatchObject({ type: 'summary', outcome: 'completed' });
  });
});

describe('nexora run: screenshots sized for the model', () => {
  it('sends a model with a small configured size PNGs of that size, and its click lands where it pointed', async () => {
    const script: ModelScriptInput = {
      name: 'small-screenshots',
      turns: [
        { respond: { toolCalls: [{ name: 'screen', input: {} }] } },
        // 321,123 in a 640x400 screenshot of the 1280x800 display is 642,246 on the display.
        { expect: { imageAttached: true, toolResultIncludes: ['640x400'] }, respond: { toolCalls: [{ name: 'mouse', input: { action: 'click', x: 321, y: 123 } }] } },
        { respond: { toolCalls: [{ name: 'execute', input: { command: 'DISPLAY=:1 xdotool getmouselocation --shell' } }] } },
        { expect: { toolResultIncludes: ['X=642', 'Y=246'] }, respond: { text: 'Clicked.' } },
      ],
    };
    const { workspace, server } = await prepare({ wire: 'anthropic', script, vision: true, imageSize: { width: 640, height: 640 } });
    const deps = dependencies();
    const result = await runTask(flags(workspace), deps);
    expect(server.violations).toEqual([]);
    expect(result.outcome, `${result.reason}\n${deps.output().slice(-3000)}`).toBe('completed');
    expect(server.turnsPlayed).toBe(4);
    const shots = server.requests.flatMap((request) =>
      (request.normalized?.messages ?? []).flatMap((message) => message.parts.flatMap((part) => [...(part.image ? [part.image] : []), ...(part.images ?? [])])),
    );
    expect(shots.length).toBeGreaterThan(0);
    expect(shots.map((shot) => [shot.width, shot.height])).toEqual(shots.map(() => [640, 400]));
  });
});

describe('nexora run: budget and interrupts on a real workstation', () => {
  it('stops at --max-cost with the budget reason and leaves the session consistent', async () => {
    const script = await loadFixture('vi-process-data');
    const { workspace, server } = await prepare({ wire: 'anthropic', script, vision: true });
    // The first step costs $0.0081, the second brings it to $0.0144.
    const result = await runTask(flags(workspace, { maxCost: 0.01 }), dependencies());
    expect(result.outcome).toBe('budget');
    expect(result.reason).toMatch(/budget of \$0\.01/);
    expect(result.steps).toBe(2);
    expect(server.turnsPlayed).toBe(2);
    expect(result.cost.usd).toBeGreaterThanOrEqual(0.01);
    const session = await new SessionStore(db).get(result.sessionId);
    expect(session.status).toBe('active');
    expect((await new SessionStore(db).usage(result.sessionId)).usd).toBeCloseTo(result.cost.usd, 6);
    const events = await sessionEvents(result.sessionId);
    // The run's end, then its workstation parked (paused and kept for a resume).
    expect(events.slice(-2)).toMatchObject([{ kind: 'run-end', payload: { outcome: 'budget' } }, { kind: 'workstation-park', payload: { reason: 'run budget' } }]);
    // Step 2's three keyboard calls were not run: step 1's one is the only tool call.
    expect(events.filter((event) => event.kind === 'tool-call-start')).toHaveLength(1);
    await world.open({ db }).then(({ manager }) => manager.stopContainer(result.sessionId, { reason: 'test done' }));
  });

  it('interrupts mid-step, kills the command, keeps the session active, and resumes on it', async () => {
    const { workspace } = await prepare({
      wire: 'openai',
      vision: false,
      script: {
        name: 'long-command',
        turns: [
          { respond: { toolCalls: [{ name: 'execute', input: { command: 'sleep 300; echo never', timeoutMs: 600_000 } }] } },
          { respond: { text: 'never reached' } },
        ],
      },
    });
    const controller = new AbortController();
    let sessionId: SessionId | undefined;
    const onEvent = (event: AgentEvent, id: SessionId): void => {
      sessionId = id;
      if (event.type === 'tool-call-start') setTimeout(() => controller.abort(), 500);
    };
    const started = performance.now();
    const result = await runTask(flags(workspace), dependencies({ signal: controller.signal, onEvent }));
    expect(result.outcome).toBe('interrupted');
    expect(performance.now() - started).toBeLessThan(60_000);
    expect(sessionId).toBe(result.sessionId);
    expect(result.sessionStopped).toBe(false);
    expect((await new SessionStore(db).get(result.sessionId)).status).toBe('active');
    const events = await sessionEvents(result.sessionId);
    // The run's end, then its workstation parked (paused and kept for a resume).
    expect(events.slice(-2)).toMatchObject([{ kind: 'run-end', payload: { outcome: 'interrupted' } }, { kind: 'workstation-park', payload: { reason: 'run interrupted' } }]);
    // No stray process: the interrupted command's process group is gone.
    await expect.poll(async () => (await containerProcesses(result.sessionId)).filter((line) => line.includes('sleep 300')), { timeout: 10_000 }).toEqual([]);

    // Resumable: a new run continues on the same session and workstation.
    const resumeServer = await ScriptedModelServer.start({
      apiKey: 'scripted-key-0123456789',
      script: {
        name: 'resume',
        turns: [
          { respond: { toolCalls: [{ name: 'execute', input: { command: 'echo resumed in $(pwd)' } }] } },
          { expect: { toolResultIncludes: ['resumed in /workspace'] }, respond: { text: 'Still here.' } },
        ],
      },
    });
    servers.push(resumeServer);
    const config = JSON.parse(readFileSync(join(world.home, 'config.json'), 'utf8')) as { providers: { scripted: { baseUrl: string } } };
    config.providers.scripted.baseUrl = resumeServer.openAiBaseUrl;
    writeFileSync(join(world.home, 'config.json'), JSON.stringify(config));
    const resumed = await runTask(flags(workspace, { session: result.sessionId, task: 'Check you are still there' }), dependencies());
    expect(resumeServer.violations).toEqual([]);
    expect(resumed.outcome).toBe('completed');
    expect(resumed.sessionId).toBe(result.sessionId);
    expect(resumed.sessionStopped).toBe(false);
    expect((await new SessionStore(db).get(result.sessionId)).status).toBe('active');
    expect(resumed.sessionTotals.runs).toBe(2);
  });
});
