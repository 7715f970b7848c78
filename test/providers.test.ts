import { streamText, tool } from 'ai';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { LatencyTracker } from '../src/providers/latency.js';
import { ProviderRegistry, type ResolvedModel } from '../src/providers/registry.js';
import { TokenBucketLimiter } from '../src/providers/token-bucket.js';
import { callWithFallback, type FallbackNotice, type RetryNotice } from '../src/providers/with-fallback.js';
import type { ModelScriptInput } from './model-server/script.js';
import { ScriptedModelServer } from './model-server/server.js';
import type { ChatDialect } from './model-server/wire-response.js';

const servers: ScriptedModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(script: ModelScriptInput, chatDialect?: ChatDialect): Promise<ScriptedModelServer> {
  const server = await ScriptedModelServer.start({ script, apiKey: 'k', ...(chatDialect ? { chatDialect } : {}) });
  servers.push(server);
  return server;
}

/** A registry whose providers point at scripted servers, the way a user's nexora.json would. */
function registryFor(entries: Record<string, { server: ScriptedModelServer; kind: 'openai' | 'anthropic' | 'openai-compatible' }>): ProviderRegistry {
  const providers = Object.fromEntries(
    Object.entries(entries).map(([name, { server, kind }]) => [
      name,
      { kind, baseUrl: server.openAiBaseUrl, api: 'chat' as const, apiKeyEnv: `${name.toUpperCase()}_KEY` },
    ]),
  );
  const env = Object.fromEntries(Object.keys(entries).map((name) => [`${name.toUpperCase()}_KEY`, 'k']));
  return new ProviderRegistry({ providers, env });
}

/** One streamed call; throws the wire error the way the agent's step does. */
async function streamOnce(candidate: ResolvedModel): Promise<string> {
  const result = streamText({ model: candidate.model, prompt: 'hello', maxRetries: 0, onError: () => undefined });
  let text = '';
  for await (const part of result.fullStream) {
    if (part.type === 'error') throw part.error;
    if (part.type === 'text-delta') text += part.text;
  }
  return text;
}

describe('providers against the scripted model server', () => {
  it('waits out a 429 for as long as Retry-After says, then succeeds', async () => {
    const server = await start({ name: 'rate-limited', turns: [{ fault: { status: 429, retryAfterSeconds: 1 } }, { respond: { text: 'after the wait' } }] });
    const registry = registryFor({ primary: { server, kind: 'anthropic' } });
    // Anthropic's client wants …/v1 too; the scripted server serves both formats there.
    const candidates = await registry.candidates({ strategy: 'explicit', model: 'primary/claude-test', needs: { tools: true, vision: false } });
    const retries: RetryNotice[] = [];
    const started = performance.now();
    const { value } = await callWithFallback({
      candidates,
      policy: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 10_000 },
      run: streamOnce,
      onRetry: (notice) => retries.push(notice),
    });
    const elapsed = performance.now() - started;
    expect(value).toBe('after the wait');
    expect(retries).toEqual([expect.objectContaining({ model: 'primary/claude-test', failure: 'rate-limited', delayMs: 1000, attempt: 1 })]);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(server.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  it('falls back to the next candidate when a provider answers 500 twice', async () => {
    const primary = await start({ name: 'broken', turns: [{ fault: { status: 500 } }, { fault: { status: 500 } }] });
    const backup = await start({ name: 'backup', turns: [{ respond: { text: 'from the backup' } }] });
    const registry = registryFor({ primary: { server: primary, kind: 'openai' }, backup: { server: backup, kind: 'openai-compatible' } });
    const candidates = await registry.candidates({
      strategy: 'explicit',
      model: 'primary/gpt-test',
      fallbacks: ['backup/local-model'],
      needs: { tools: true, vision: false },
    });
    expect(candidates.map((candidate) => candidate.info.ref)).toEqual(['primary/gpt-test', 'backup/local-model']);
    const retries: RetryNotice[] = [];
    const fallbacks: FallbackNotice[] = [];
    const { value, candidate } = await callWithFallback({
      candidates,
      policy: { maxRetries: 1, initialDelayMs: 50, maxDelayMs: 1000 },
      run: streamOnce,
      onRetry: (notice) => retries.push(notice),
      onFallback: (notice) => fallbacks.push(notice),
    });
    expect(value).toBe('from the backup');
    expect(candidate.info.ref).toBe('backup/local-model');
    expect(retries).toHaveLength(1);
    expect(fallbacks).toEqual([expect.objectContaining({ from: 'primary/gpt-test', to: 'backup/local-model', failure: 'server-error' })]);
    expect(primary.requests.map((request) => request.status)).toEqual([500, 500]);
  });

  it('fails with every model named when all candidates are down, and does not retry a 400', async () => {
    const primary = await start({ name: 'down', turns: [{ fault: { status: 503 } }] });
    const registry = registryFor({ primary: { server: primary, kind: 'openai' } });
    const candidates = await registry.candidates({ strategy: 'explicit', model: 'primary/m', needs: { tools: true, vision: false } });
    await expect(callWithFallback({ candidates, policy: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 }, run: streamOnce })).rejects.toThrow(
      /Every model failed \(primary\/m\)/,
    );
    const bad = await start({ name: 'bad', turns: [{ fault: { status: 400 } }, { respond: { text: 'never' } }] });
    const badCandidates = await registryFor({ bad: { server: bad, kind: 'openai' } }).candidates({ strategy: 'explicit', model: 'bad/m', needs: { tools: true, vision: false } });
    await expect(callWithFallback({ candidates: badCandidates, policy: { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 1 }, run: streamOnce })).rejects.toThrow();
    expect(bad.requests).toHaveLength(1);
  });

  it('holds a configured request rate under 20 concurrent requests', async () => {
    const server = await start({ name: 'many', loop: true, turns: [{ respond: { text: 'ok' } }] });
    const registry = registryFor({ primary: { server, kind: 'openai' } });
    const [candidate] = await registry.candidates({ strategy: 'explicit', model: 'primary/m', needs: { tools: true, vision: false } });
    // 10 requests per second after a burst of 2.
    const limiter = new TokenBucketLimiter({ requestsPerMinute: 600, burstRequests: 2, tokensPerMinute: 600_000 });
    const started = performance.now();
    const texts = await Promise.all(
      Array.from({ length: 20 }, async () => {
        await limiter.acquire({ tokens: 100 });
        return streamOnce(candidate!);
      }),
    );
    const elapsed = performance.now() - started;
    expect(texts.every((text) => text === 'ok')).toBe(true);
    const arrivals = server.requests.map((request) => request.receivedAt).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(20);
    // The token-bucket property as the server saw it: in any window, no more requests than the
    // burst plus the rate times the window (one request of slack for network jitter).
    let worst = 0;
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i; j < arrivals.length; j++) {
        const allowed = 2 + ((arrivals[j]! - arrivals[i]!) / 1000) * 10 + 1;
        worst = Math.max(worst, j - i + 1 - allowed);
      }
    }
    expect(worst).toBeLessThanOrEqual(0);
    expect(elapsed).toBeGreaterThanOrEqual(1700);
    expect(elapsed).toBeLessThan(4000);
  });
});

describe('providers: a Retry-After longer than the policy allows', () => {
  it('moves to the next candidate at once instead of waiting', async () => {
    const primary = await start({ name: 'long-wait', turns: [{ fault: { status: 429, retryAfterSeconds: 3600 } }] });
    const backup = await start({ name: 'backup', turns: [{ respond: { text: 'backup answered' } }] });
    const registry = registryFor({ primary: { server: primary, kind: 'openai' }, backup: { server: backup, kind: 'openai' } });
    const candidates = await registry.candidates({ strategy: 'explicit', model: 'primary/m', fallbacks: ['backup/m'], needs: { tools: true, vision: false } });
    const fallbacks: FallbackNotice[] = [];
    const started = performance.now();
    const { value } = await callWithFallback({
      candidates,
      policy: { maxRetries: 3, initialDelayMs: 10, maxDelayMs: 30_000 },
      run: streamOnce,
      onFallback: (notice) => fallbacks.push(notice),
    });
    expect(value).toBe('backup answered');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(fallbacks).toEqual([expect.objectContaining({ from: 'primary/m', to: 'backup/m', failure: 'rate-limited' })]);
    expect(primary.requests).toHaveLength(1);
  });
});

describe('providers: routing by measured latency', () => {
  it('prefers the model that answered faster once both were measured', async () => {
    const slow = await start({ name: 'slow', loop: true, turns: [{ respond: { text: 'slow', delayMs: 400 } }] });
    const fast = await start({ name: 'fast', loop: true, turns: [{ respond: { text: 'fast' } }] });
    const registry = new ProviderRegistry({
      env: { SLOW_KEY: 'k', FAST_KEY: 'k' },
      latency: new LatencyTracker(),
      providers: {
        slow: { kind: 'openai', baseUrl: slow.openAiBaseUrl, apiKeyEnv: 'SLOW_KEY' },
        fast: { kind: 'openai', baseUrl: fast.openAiBaseUrl, apiKeyEnv: 'FAST_KEY' },
      },
      // The slow one is cheaper, so only measured latency can put the fast one first.
      models: { 'slow/m': { prices: { input: 0.1, output: 0.1, cachedInput: 0.1 } }, 'fast/m': { prices: { input: 5, output: 5, cachedInput: 5 } } },
    });
    const needs = { tools: true, vision: false };
    const before = await registry.candidates({ strategy: 'fastest', needs });
    expect(before.map((candidate) => candidate.info.ref)).toEqual(['slow/m', 'fast/m']);
    for (const candidate of before) {
      const started = performance.now();
      await streamOnce(candidate);
      registry.latency.record(candidate.info.ref, performance.now() - started);
    }
    const after = await registry.candidates({ strategy: 'fastest', needs });
    expect(after.map((candidate) => candidate.info.ref)).toEqual(['fast/m', 'slow/m']);
    expect((await registry.candidates({ strategy: 'cheapest', needs }))[0]?.info.ref).toBe('slow/m');
  });
});

describe('providers: every chat-style client against the Chat Completions wire', () => {
  it.each([
    ['openai', 'openai'],
    ['xai', 'xai'],
    ['mistral', 'mistral'],
    ['groq', 'groq'],
    ['deepseek', 'openai'],
    ['openai-compatible', 'openai'],
  ] as const)('%s streams text, a tool call and usage', async (kind, dialect) => {
    const server = await start(
      {
        name: `kind-${kind}`,
        requireTools: ['echo'],
        turns: [{ respond: { text: 'Calling.', toolCalls: [{ name: 'echo', input: { text: 'hi' } }], usage: { input: 300, output: 12, cached: 0 } } }],
      },
      dialect,
    );
    const registry = new ProviderRegistry({
      env: { KIND_KEY: 'k' },
      providers: { p: { kind, baseUrl: server.openAiBaseUrl, apiKeyEnv: 'KIND_KEY' } },
    });
    const candidate = await registry.resolve('p/some-model');
    const result = streamText({
      model: candidate.model,
      prompt: 'echo hi',
      tools: { echo: tool({ description: 'echo', inputSchema: z.object({ text: z.string() }) }) },
      maxRetries: 0,
      onError: () => undefined,
    });
    let text = '';
    const calls: unknown[] = [];
    for await (const part of result.fullStream) {
      if (part.type === 'error') throw part.error;
      if (part.type === 'text-delta') text += part.text;
      if (part.type === 'tool-call') calls.push({ name: part.toolName, input: part.input });
    }
    expect(server.violations).toEqual([]);
    expect(text).toBe('Calling.');
    expect(calls).toEqual([{ name: 'echo', input: { text: 'hi' } }]);
    expect((await result.totalUsage).inputTokens).toBe(300);
  });
});
