import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { lookupModel, parseModelRef } from './catalogue.js';
import { costOf, formatUsd } from './cost.js';
import { LatencyTracker } from './latency.js';
import { ProviderRegistry } from './registry.js';
import { classifyFailure, retryAfterMs, retryDelayMs } from './retry.js';
import { orderCandidates } from './router.js';
import { TokenBucketLimiter } from './token-bucket.js';

function apiError(statusCode: number | undefined, headers: Record<string, string> = {}): APICallError {
  return new APICallError({ message: 'x', url: 'http://x', requestBodyValues: {}, statusCode, responseHeaders: headers });
}

describe('catalogue and cost', () => {
  it('splits refs at the first slash and applies config overrides', () => {
    expect(parseModelRef('groq/meta-llama/llama-4')).toEqual({ provider: 'groq', modelId: 'meta-llama/llama-4' });
    expect(parseModelRef('nope')).toBeUndefined();
    const model = lookupModel('anthropic/claude-sonnet-4-5', { 'anthropic/claude-sonnet-4-5': { prices: { input: 1 } } });
    expect(model?.prices).toEqual({ input: 1, output: 15, cachedInput: 0.3 });
    expect(lookupModel('ollama/qwen')?.capabilities.vision).toBe(false);
  });

  it('prices cached input apart', () => {
    const cost = costOf({ inputTokens: 1_000_000, outputTokens: 100_000, cachedInputTokens: 400_000 }, { input: 3, output: 15, cachedInput: 0.3 });
    expect(cost.usd).toBeCloseTo(0.6 * 3 + 0.4 * 0.3 + 0.1 * 15, 10);
    expect(formatUsd(0.00123)).toBe('$0.0012');
  });
});

describe('screenshot size per model', () => {
  it('takes the config, then the catalogue, then the provider default', () => {
    // Anthropic scales images over 1568 px or ~1.15 megapixels; OpenAI fits the short side to 768 px.
    expect(lookupModel('anthropic/claude-sonnet-4-5')?.imageSize).toEqual({ width: 1568, height: 1568, maxPixels: 1_150_000 });
    expect(lookupModel('openai/gpt-5')?.imageSize).toEqual({ width: 2048, height: 768 });
    // Patch-priced models: at most 1536 patches of 32×32.
    expect(lookupModel('openai/gpt-4.1-mini')?.imageSize).toEqual({ width: 2048, height: 2048, maxPixels: 1_572_864 });
    // Gemini tiles large images instead of shrinking them; a local model's limits are unknown.
    expect(lookupModel('google/gemini-2.5-pro')?.imageSize).toBeUndefined();
    expect(lookupModel('ollama/qwen2.5-vl')?.imageSize).toBeUndefined();
    const small = { width: 640, height: 480 };
    expect(lookupModel('anthropic/claude-sonnet-4-5', { 'anthropic/claude-sonnet-4-5': { imageSize: small } })?.imageSize).toEqual(small);
    expect(lookupModel('openai/gpt-4.1-mini', { 'openai/gpt-4.1-mini': { imageSize: small } })?.imageSize).toEqual(small);
  });

  it('uses the configured kind of a custom-named provider', async () => {
    const registry = new ProviderRegistry({
      env: { PROXY_KEY: 'k' },
      providers: { proxy: { kind: 'anthropic', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'PROXY_KEY' }, local: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' } },
    });
    expect((await registry.resolve('proxy/claude-sonnet-4-5')).info.imageSize).toEqual({ width: 1568, height: 1568, maxPixels: 1_150_000 });
    expect((await registry.resolve('local/some-vl-model')).info.imageSize).toBeUndefined();
  });
});

describe('retry', () => {
  it('classifies failures and reads Retry-After in seconds, dates and ms', () => {
    expect(classifyFailure(apiError(429))).toBe('rate-limited');
    expect(classifyFailure(apiError(503))).toBe('server-error');
    expect(classifyFailure(apiError(400))).toBe('fatal');
    expect(classifyFailure(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe('network');
    expect(retryAfterMs(apiError(429, { 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(apiError(429, { 'retry-after-ms': '150' }))).toBe(150);
    expect(retryAfterMs(apiError(429, { 'retry-after': new Date(10_000).toUTCString() }), 7_000)).toBe(3000);
    const policy = { maxRetries: 2, initialDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelayMs({ attempt: 3, error: apiError(500), policy, random: () => 1 })).toBe(400);
    expect(retryDelayMs({ attempt: 1, error: apiError(429, { 'retry-after': '60' }), policy })).toBe(1000);
  });
});

describe('routing', () => {
  const models = ['anthropic/claude-sonnet-4-5', 'deepseek/deepseek-chat', 'openai/gpt-4.1-mini'].map((ref) => lookupModel(ref)!);

  it('orders cheapest capable first and honours vision', () => {
    expect(orderCandidates({ strategy: 'cheapest', available: models, needs: { tools: true, vision: false } }).map((m) => m.ref)).toEqual([
      'deepseek/deepseek-chat',
      'openai/gpt-4.1-mini',
      'anthropic/claude-sonnet-4-5',
    ]);
    expect(orderCandidates({ strategy: 'cheapest', available: models, needs: { tools: true, vision: true } })[0]?.ref).toBe('openai/gpt-4.1-mini');
  });

  it('orders fastest by measured latency and explicit with its fallbacks', () => {
    const latency = new LatencyTracker();
    latency.record('anthropic/claude-sonnet-4-5', 200);
    latency.record('openai/gpt-4.1-mini', 900);
    const fastest = orderCandidates({ strategy: 'fastest', available: models, needs: { tools: true, vision: false }, latency });
    expect(fastest.map((m) => m.ref)).toEqual(['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1-mini', 'deepseek/deepseek-chat']);
    const explicit = orderCandidates({
      strategy: 'explicit',
      available: models,
      needs: { tools: true, vision: false },
      explicit: 'openai/gpt-4.1-mini',
      fallbacks: ['deepseek/deepseek-chat', 'missing/model'],
    });
    expect(explicit.map((m) => m.ref)).toEqual(['openai/gpt-4.1-mini', 'deepseek/deepseek-chat']);
  });
});

describe('ProviderRegistry keys', () => {
  it('takes the store first, then the environment, and says how to add a key', async () => {
    const registry = new ProviderRegistry({
      env: { OPENAI_API_KEY: 'sk-env' },
      keys: { getApiKey: (provider) => Promise.resolve(provider === 'anthropic' ? 'sk-store' : undefined) },
    });
    expect(await registry.apiKeyFor('anthropic')).toEqual({ key: 'sk-store', source: 'store' });
    expect(await registry.apiKeyFor('openai')).toEqual({ key: 'sk-env', source: 'env' });
    await expect(registry.resolve('groq/llama-3.3-70b-versatile')).rejects.toThrow(/nexora keys add groq.*GROQ_API_KEY/);
    const available = (await registry.availableModels()).map((model) => model.provider);
    expect(new Set(available)).toEqual(new Set(['anthropic', 'openai']));
    await expect(new ProviderRegistry({ env: {} }).candidates({ strategy: 'cheapest', needs: { tools: true, vision: false } })).rejects.toThrow(
      /ANTHROPIC_API_KEY/,
    );
  });

  it('knows that Chat Completions cannot carry images in tool results', async () => {
    const env = { OPENAI_API_KEY: 'k' };
    const chat = await new ProviderRegistry({ env }).resolve('openai/gpt-4.1');
    const responses = await new ProviderRegistry({ env, providers: { openai: { api: 'responses' } } }).resolve('openai/gpt-4.1');
    expect([responses.imagesInToolResults, chat.imagesInToolResults]).toEqual([true, false]);
  });
});

describe('TokenBucketLimiter', () => {
  it('lets a burst through and then holds the rate', async () => {
    const limiter = new TokenBucketLimiter({ requestsPerMinute: 600, burstRequests: 2 });
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire().then(() => times.push(performance.now() - started))));
    // 2 at once, then one every 100 ms.
    expect(times[1]).toBeLessThan(30);
    expect(times[4]).toBeGreaterThanOrEqual(290);
  });

  it('stops waiting when aborted', async () => {
    const limiter = new TokenBucketLimiter({ requestsPerMinute: 1, burstRequests: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toThrow(/interrupted/);
  });
});
