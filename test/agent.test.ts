import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentRun, type AgentRunOptions } from '../src/agent/agent-run.js';
import type { AgentEvent } from '../src/agent/events.js';
import { ProviderRegistry, type ResolvedModel } from '../src/providers/registry.js';
import { diffScreens } from '../src/tools/screen-diff.js';
import { encodePng } from '../src/tools/png-encode.js';
import type { ExecuteResult, ImageSize, KeyboardOptions, ScreenResult, VisualTools } from '../src/tools/types.js';
import type { ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';

/**
 * The agent loop against the scripted model server over both wire formats. The workstation
 * here is an in-test stand-in for the tools (a few lines of "terminal"), because these tests
 * are about what the loop sends and records; test/agent-workstation.test.ts runs the real
 * thing.
 */
class TerminalDouble implements VisualTools {
  lines = ['user@nexora:/workspace$ '];
  readonly calls: string[] = [];
  readonly imageRequests: boolean[] = [];
  /** Every screenshot size the loop asked for, in order. */
  readonly imageSizes: (ImageSize | undefined)[] = [];
  private previous: string[] | undefined;

  setImageSize(size: ImageSize | undefined): void {
    this.imageSizes.push(size);
  }

  private look(image: boolean): ScreenResult {
    const changes = diffScreens(this.previous, this.lines);
    this.previous = [...this.lines];
    // A 4x4 PNG whose colour depends on the text, so a changed screen is a changed image.
    const shade = createHash('sha256').update(this.lines.join('\n')).digest()[0] ?? 0;
    const png = image ? encodePng(new Uint8Array(64).fill(shade), 4, 4) : undefined;
    return {
      ...(png ? { png } : {}),
      text: this.lines.join('\n'),
      width: 1280,
      height: 800,
      cursor: { row: this.lines.length - 1, column: 0 },
      timestamp: new Date().toISOString(),
      changes,
    };
  }

  screen(options: { image?: boolean } = {}): Promise<ScreenResult> {
    this.calls.push('screen');
    this.imageRequests.push(options.image !== false);
    return Promise.resolve(this.look(options.image !== false));
  }

  keyboard(options: KeyboardOptions): Promise<{ keystrokes: number; wait: { outcome: 'quiet'; waitedMs: number }; screen: ScreenResult }> {
    this.calls.push(`keyboard:${JSON.stringify(options.text ?? options.keys)}`);
    if (options.signal?.aborted) return Promise.reject(new Error('aborted'));
    this.lines.push(`typed ${options.text ?? ''}`);
    return Promise.resolve({ keystrokes: (options.text ?? '').length, wait: { outcome: 'quiet', waitedMs: 3 }, screen: this.look(false) });
  }

  mouse(): Promise<never> {
    return Promise.reject(new Error('no mouse here'));
  }

  execute(command: string): Promise<ExecuteResult> {
    this.calls.push(`execute:${command}`);
    const long = command === 'seq 100000' ? Array.from({ length: 100_000 }, (_, index) => String(index + 1)).join('\n') : `ran ${command}\n`;
    return Promise.resolve({ stdout: long, stderr: '', exitCode: 0, durationMs: 5, timedOut: false, truncated: false });
  }
}

const servers: ScriptedModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

type Wire = 'anthropic' | 'openai' | 'responses' | 'google';

async function setUp(options: { wire: Wire; script: ModelScriptInput; vision?: boolean; price?: number; fallbackScript?: ModelScriptInput; contextTokens?: number }) {
  const server = await ScriptedModelServer.start({ script: options.script, apiKey: 'k' });
  servers.push(server);
  const fallback = options.fallbackScript ? await ScriptedModelServer.start({ script: options.fallbackScript, apiKey: 'k' }) : undefined;
  if (fallback) servers.push(fallback);
  const kind = options.wire === 'anthropic' || options.wire === 'google' ? options.wire : 'openai';
  const api = options.wire === 'responses' ? ('responses' as const) : undefined;
  const capabilities = { tools: true, vision: options.vision ?? true, imagesInToolResults: true, contextTokens: options.contextTokens ?? 200_000 };
  const prices = { input: options.price ?? 3, output: 15, cachedInput: 0.3 };
  const registry = new ProviderRegistry({
    env: { SCRIPTED_KEY: 'k' },
    providers: {
      scripted: { kind, baseUrl: server.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_KEY', ...(api ? { api } : {}) },
      ...(fallback ? { backup: { kind: 'openai-compatible' as const, baseUrl: fallback.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_KEY' } } : {}),
    },
    models: { 'scripted/model-a': { capabilities, prices }, 'backup/model-b': { capabilities: { ...capabilities, vision: false }, prices } },
  });
  const candidates: ResolvedModel[] = await registry.candidates({
    strategy: 'explicit',
    model: 'scripted/model-a',
    fallbacks: fallback ? ['backup/model-b'] : [],
    needs: { tools: true, vision: false },
  });
  return { server, fallback, candidates };
}

function baseOptions(tools: VisualTools, candidates: ResolvedModel[], recorded: { kind: string; payload: unknown }[]): AgentRunOptions {
  return {
    sessionId: 'test-session',
    task: 'Add error handling',
    tools,
    candidates,
    retry: { maxRetries: 1, initialDelayMs: 20, maxDelayMs: 5000 },
    maxSteps: 10,
    keepImages: 3,
    imageDropChunk: 3,
    maxToolOutputChars: 2000,
    maxOutputTokens: 1024,
    screenImages: 'auto',
    record: (event) => {
      recorded.push(event);
      return Promise.resolve();
    },
  };
}

const tools = ['screen', 'keyboard', 'mouse', 'execute'];

describe.each(['anthropic', 'openai', 'responses', 'google'] as const)('agent loop over the %s wire format', (wire) => {
  it('looks, types, checks and finishes, sending every tool result back and recording every call', async () => {
    const script: ModelScriptInput = {
      name: 'short-task',
      requireTools: tools,
      turns: [
        { respond: { text: 'Let me look.', toolCalls: [{ name: 'screen', input: {} }], usage: { input: 2000, output: 30, cached: 0 } } },
        {
          expect: { toolResultIncludes: ['user@nexora:/workspace$'], imageAttached: true },
          respond: { toolCalls: [{ name: 'keyboard', input: { text: 'vi main.go\n' } }], usage: { input: 2500, output: 20, cached: 2000 } },
        },
        {
          expect: { toolResultIncludes: ['row 1: typed vi main.go'], imageAttached: false },
          respond: { toolCalls: [{ name: 'execute', input: { command: 'seq 100000' } }], usage: { input: 2600, output: 20, cached: 2500 } },
        },
        { expect: { toolResultIncludes: ['exit code 0', 'characters', 'omitted', '100000'] }, respond: { text: 'Done: checked.', usage: { input: 3000, output: 10, cached: 2600 } } },
      ],
    };
    const { server, candidates } = await setUp({ wire, script });
    const terminal = new TerminalDouble();
    const recorded: { kind: string; payload: unknown }[] = [];
    const run = startAgentRun(baseOptions(terminal, candidates, recorded));
    const seen: AgentEvent[] = [];
    for await (const event of run.events) seen.push(event);
    const result = await run.result;

    expect(server.violations).toEqual([]);
    expect(result.outcome).toBe('completed');
    expect(result.steps).toBe(4);
    expect(result.finalText).toBe('Done: checked.');
    expect(terminal.calls).toEqual(['screen', 'keyboard:"vi main.go\\n"', 'execute:seq 100000']);
    // 10100 input tokens of which 7100 cached, 80 output, at $3 / $0.30 / $15 per million.
    expect(result.cost.inputTokens).toBe(10_100);
    expect(result.cost.cachedInputTokens).toBe(7100);
    expect(result.cost.usd).toBeCloseTo((3000 * 3 + 7100 * 0.3 + 80 * 15) / 1e6, 9);
    expect(seen.map((event) => event.type).filter((type) => type !== 'text-delta')).toEqual([
      'run-start',
      'step-start',
      'step-end',
      'tool-call-start',
      'tool-call-end',
      'step-start',
      'step-end',
      'tool-call-start',
      'tool-call-end',
      'step-start',
      'step-end',
      'tool-call-start',
      'tool-call-end',
      'step-start',
      'step-end',
      'run-end',
    ]);
    expect(seen.filter((event) => event.type === 'text-delta').map((event) => event.text).join('')).toBe('Let me look.Done: checked.');
    // Every streamed event is recorded; the conversation record (for --continue) comes on top of them.
    expect(recorded.filter((event) => event.kind !== 'conversation-append').map((event) => event.kind)).toEqual(
      seen.filter((event) => event.type !== 'text-delta').map((event) => event.type),
    );
    expect(recorded.filter((event) => event.kind === 'conversation-append').length).toBeGreaterThanOrEqual(seen.filter((event) => event.type === 'step-start').length);
    const toolEnds = recorded.filter((event) => event.kind === 'tool-call-end').map((event) => event.payload as { toolName: string; summary: string; imageSent: boolean });
    expect(toolEnds.map((event) => [event.toolName, event.imageSent])).toEqual([
      ['screen', true],
      ['keyboard', false],
      ['execute', false],
    ]);
    expect(toolEnds[2]?.summary).toMatch(/^exit code 0/);
    if (wire === 'anthropic') {
      // Prompt-cache breakpoints: the system prompt and the newest message.
      const body = JSON.stringify(server.requests.at(-1)?.body);
      expect(body.match(/"cache_control":\{"type":"ephemeral"\}/g)).toHaveLength(2);
    }
  });

  it('never sends an image to a text-only model and asks the tools for none', async () => {
    const script: ModelScriptInput = {
      name: 'text-only',
      forbidImages: true,
      requireTools: tools,
      turns: [
        { respond: { toolCalls: [{ name: 'screen', input: {} }] } },
        { expect: { toolResultIncludes: ['Terminal text'] }, respond: { toolCalls: [{ name: 'screen', input: { full: true } }] } },
        { respond: { text: 'ok' } },
      ],
    };
    const { server, candidates } = await setUp({ wire, script, vision: false });
    const terminal = new TerminalDouble();
    const result = await startAgentRun(baseOptions(terminal, candidates, [])).result;
    expect(server.violations).toEqual([]);
    expect(result.outcome).toBe('completed');
    expect(terminal.imageRequests).toEqual([false, false]);
  });

  it('stops at the budget with the budget reason', async () => {
    const script: ModelScriptInput = {
      name: 'expensive',
      turns: [
        { respond: { toolCalls: [{ name: 'screen', input: {} }], usage: { input: 100_000, output: 1000, cached: 0 } } },
        { respond: { toolCalls: [{ name: 'screen', input: {} }], usage: { input: 100_000, output: 1000, cached: 0 } } },
        { respond: { text: 'never reached' } },
      ],
    };
    const { server, candidates } = await setUp({ wire, script });
    const terminal = new TerminalDouble();
    const recorded: { kind: string; payload: unknown }[] = [];
    // Each step costs $0.315; the budget allows one step and a bit.
    const result = await startAgentRun({ ...baseOptions(terminal, candidates, recorded), maxCostUsd: 0.5 }).result;
    expect(result.outcome).toBe('budget');
    expect(result.reason).toMatch(/budget of \$0\.5/);
    expect(result.steps).toBe(2);
    expect(result.cost.usd).toBeCloseTo(0.63, 6);
    // The second step's tool call was not run.
    expect(terminal.calls).toEqual(['screen']);
    expect(server.turnsPlayed).toBe(2);
    expect(recorded.at(-1)).toMatchObject({ kind: 'run-end', payload: { outcome: 'budget' } });
  });
});

describe('agent loop: images per model', () => {
  it('puts the PNG inside the tool result for Anthropic, Responses and Gemini and in a user message for Chat Completions', async () => {
    for (const wire of ['anthropic', 'responses', 'google', 'openai'] as const) {
      const { server, candidates } = await setUp({
        wire,
        script: {
          name: `vision-${wire}`,
          turns: [{ respond: { toolCalls: [{ name: 'screen', input: {} }] } }, { expect: { imageAttached: true }, respond: { text: 'seen' } }],
        },
      });
      expect(candidates[0]?.imagesInToolResults).toBe(wire !== 'openai');
      const result = await startAgentRun(baseOptions(new TerminalDouble(), candidates, [])).result;
      expect(result.outcome).toBe('completed');
      expect(server.violations).toEqual([]);
      const last = server.requests.at(-1)?.normalized;
      const resultImages = last?.messages.flatMap((message) => message.parts.flatMap((part) => part.images ?? [])) ?? [];
      const messageImages = last?.messages.flatMap((message) => message.parts.filter((part) => part.kind === 'image')) ?? [];
      expect([resultImages.length, messageImages.length]).toEqual(wire === 'openai' ? [0, 1] : [1, 0]);
    }
  });
});

describe('agent loop: screenshot size per model', () => {
  it("applies the size of the model in use to each step, the fallback's after a fallback, none for a text-only model", async () => {
    const first = await ScriptedModelServer.start({
      apiKey: 'k',
      script: { name: 'first', turns: [{ respond: { toolCalls: [{ name: 'screen', input: {} }] } }, { fault: { status: 500 } }, { fault: { status: 500 } }] },
    });
    const second = await ScriptedModelServer.start({
      apiKey: 'k',
      script: {
        name: 'second',
        turns: [{ expect: { imageAttached: true }, respond: { toolCalls: [{ name: 'screen', input: {} }] } }, { respond: { toolCalls: [{ name: 'screen', input: {} }] } }, { respond: { text: 'done' } }],
      },
    });
    servers.push(first, second);
    const capabilities = { tools: true, vision: true, imagesInToolResults: true, contextTokens: 200_000 };
    const prices = { input: 1, output: 1, cachedInput: 1 };
    const registry = new ProviderRegistry({
      env: { SCRIPTED_KEY: 'k' },
      providers: {
        first: { kind: 'anthropic', baseUrl: first.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_KEY' },
        second: { kind: 'anthropic', baseUrl: second.openAiBaseUrl, apiKeyEnv: 'SCRIPTED_KEY' },
      },
      models: {
        'first/model': { capabilities, prices, imageSize: { width: 640, height: 480 } },
        'second/model': { capabilities, prices, imageSize: { width: 320, height: 240, maxPixels: 50_000 } },
      },
    });
    const candidates = await registry.candidates({ strategy: 'explicit', model: 'first/model', fallbacks: ['second/model'], needs: { tools: true, vision: true } });
    const double = new TerminalDouble();
    const result = await startAgentRun(baseOptions(double, candidates, [])).result;
    expect(result.outcome).toBe('completed');
    expect(first.violations).toEqual([]);
    expect(second.violations).toEqual([]);
    // Step 1 on the first model, steps 2 and 3 on the fallback, set before each step's tools ran.
    expect(double.imageSizes).toEqual([{ width: 640, height: 480 }, { width: 320, height: 240, maxPixels: 50_000 }, { width: 320, height: 240, maxPixels: 50_000 }]);

    // A text-only model gets display pixels (window geometry in its text is not scaled).
    const textOnly = await setUp({ wire: 'anthropic', vision: false, script: { name: 'text', turns: [{ respond: { toolCalls: [{ name: 'screen', input: {} }] } }, { respond: { text: 'done' } }] } });
    const blind = new TerminalDouble();
    expect((await startAgentRun(baseOptions(blind, textOnly.candidates, [])).result).outcome).toBe('completed');
    expect(blind.imageSizes).toEqual([undefined]);
  });
});

describe('agent loop: failures and interrupts', () => {
  it('waits out a 429, falls back after two 500s, and records both', async () => {
    const { server, fallback, candidates } = await setUp({
      wire: 'anthropic',
      script: {
        name: 'flaky',
        turns: [
          { fault: { status: 429, retryAfterSeconds: 1 } },
          { respond: { toolCalls: [{ name: 'screen', input: {} }] } },
          { fault: { status: 500 } },
          { fault: { status: 500 } },
        ],
      },
      fallbackScript: { name: 'backup', forbidImages: true, turns: [{ respond: { text: 'finished on the backup' } }] },
    });
    const recorded: { kind: string; payload: unknown }[] = [];
    const started = performance.now();
    const result = await startAgentRun(baseOptions(new TerminalDouble(), candidates, recorded)).result;
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.outcome).toBe('completed');
    expect(result.model).toBe('backup/model-b');
    expect(server.violations).toEqual([]);
    // The backup is text-only: the screenshot taken for the first model must not reach it.
    expect(fallback?.violations).toEqual([]);
    const retries = recorded.filter((event) => event.kind === 'model-retry').map((event) => event.payload);
    expect(retries).toEqual([
      expect.objectContaining({ step: 1, failure: 'rate-limited', delayMs: 1000 }),
      expect.objectContaining({ step: 2, failure: 'server-error' }),
    ]);
    expect(recorded.filter((event) => event.kind === 'model-fallback').map((event) => event.payload)).toEqual([
      expect.objectContaining({ step: 2, from: 'scripted/model-a', to: 'backup/model-b', failure: 'server-error' }),
    ]);
  });

  it('stops cleanly when interrupted mid-step', async () => {
    const { server, candidates } = await setUp({
      wire: 'openai',
      script: { name: 'slow', turns: [{ respond: { toolCalls: [{ name: 'screen', input: {} }] } }, { respond: { text: 'late', delayMs: 10_000 } }] },
    });
    const controller = new AbortController();
    const run = startAgentRun({ ...baseOptions(new TerminalDouble(), candidates, []), signal: controller.signal });
    run.events.subscribe((event) => {
      if (event.type === 'step-start' && event.step === 2) setTimeout(() => controller.abort(), 200);
    });
    const started = performance.now();
    const result = await run.result;
    expect(result.outcome).toBe('interrupted');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(run.events.events.at(-1)).toMatchObject({ type: 'run-end', outcome: 'interrupted' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests.at(-1)?.status).toBe(499);
  });

  it('fails with the reason when the request is rejected', async () => {
    const { candidates } = await setUp({ wire: 'openai', script: { name: 'needs-a-tool', requireTools: ['browser'], turns: [{ respond: { text: 'x' } }] } });
    const result = await startAgentRun(baseOptions(new TerminalDouble(), candidates, [])).result;
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/tool "browser" is not declared/);
  });
});

describe('agent loop: context window', () => {
  it('shrinks older tool output in one go when the conversation nears the context window', async () => {
    const longCall = { respond: { toolCalls: [{ name: 'execute', input: { command: 'seq 100000' } }] } };
    const { server, candidates } = await setUp({
      wire: 'anthropic',
      // Room for the fixed part (system prompt and tool definitions, ≈4k tokens) and a few outputs.
      contextTokens: 10_000,
      script: { name: 'long-outputs', turns: [longCall, longCall, longCall, longCall, longCall, longCall, longCall, longCall, { respond: { text: 'done' } }] },
    });
    const recorded: { kind: string; payload: unknown }[] = [];
    const result = await startAgentRun(baseOptions(new TerminalDouble(), candidates, recorded)).result;
    expect(result.outcome).toBe('completed');
    expect(server.violations).toEqual([]);
    const compactions = recorded.filter((event) => event.kind === 'context-compact');
    expect(compactions.length).toBeGreaterThan(0);
    expect(compactions[0]?.payload).toMatchObject({ contextTokens: 10_000 });
    const sizes = server.requests.map((request) => JSON.stringify(request.body).length);
    // Without compaction every request is larger than the one before; with it, one is smaller.
    expect(sizes.some((size, index) => index > 0 && size < sizes[index - 1]!)).toBe(true);
    expect(JSON.stringify(server.requests.at(-1)?.body)).toContain('older execute output omitted');
    expect(Math.max(...sizes) / 4).toBeLessThan(10_000);
  });
});
