import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, jsonSchema, streamText, tool, type LanguageModel, type ModelMessage } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedModelServer } from './server.js';
import type { ModelScriptInput } from './script.js';

const servers: ScriptedModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(script: ModelScriptInput, apiKey = 'test-key'): Promise<ScriptedModelServer> {
  const server = await ScriptedModelServer.start({ script, apiKey });
  servers.push(server);
  return server;
}

const wires = {
  openai: (server: ScriptedModelServer): LanguageModel =>
    createOpenAI({ baseURL: server.openAiBaseUrl, apiKey: 'test-key' }).chat('gpt-test'),
  anthropic: (server: ScriptedModelServer): LanguageModel =>
    createAnthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'test-key' })('claude-test'),
  responses: (server: ScriptedModelServer): LanguageModel =>
    createOpenAI({ baseURL: server.openAiBaseUrl, apiKey: 'test-key' }).responses('gpt-test'),
  google: (server: ScriptedModelServer): LanguageModel =>
    createGoogleGenerativeAI({ baseURL: server.openAiBaseUrl, apiKey: 'test-key' })('gemini-test'),
};

const tools = {
  echo: tool({
    description: 'Echo text',
    inputSchema: jsonSchema<{ text: string }>({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }),
  }),
};

// A 1x1 PNG.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

async function collect(model: LanguageModel, messages: ModelMessage[]) {
  const result = streamText({ model, tools, messages, maxRetries: 0, onError: () => undefined });
  let text = '';
  const toolCalls: { id: string; name: string; input: unknown }[] = [];
  let error: unknown;
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') text += part.text;
    if (part.type === 'tool-call') toolCalls.push({ id: part.toolCallId, name: part.toolName, input: part.input });
    if (part.type === 'error') error = part.error;
  }
  if (error) return { text, toolCalls, error, usage: undefined };
  return { text, toolCalls, error, usage: await result.totalUsage };
}

describe.each(['openai', 'anthropic', 'responses', 'google'] as const)('scripted model server over the %s wire format', (wire) => {
  it('streams text and tool calls and checks that the tool results come back', async () => {
    const server = await start({
      name: 'two-turns',
      requireTools: ['echo'],
      turns: [
        { respond: { text: 'Let me echo.', toolCalls: [{ name: 'echo', input: { text: 'hi' } }], usage: { input: 1000, output: 50, cached: 400 } } },
        { expect: { toolResultIncludes: ['echoed: hi'] }, respond: { text: 'Done.' } },
      ],
    });
    const model = wires[wire](server);
    const first = await collect(model, [{ role: 'user', content: 'echo hi' }]);
    expect(first.error).toBeUndefined();
    expect(first.text).toBe('Let me echo.');
    expect(first.toolCalls).toEqual([{ id: 'call_1_1', name: 'echo', input: { text: 'hi' } }]);
    expect(first.usage?.inputTokens).toBe(1000);
    expect(first.usage?.outputTokens).toBe(50);
    expect(first.usage?.inputTokenDetails.cacheReadTokens).toBe(400);

    const second = await collect(model, [
      { role: 'user', content: 'echo hi' },
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_1_1', toolName: 'echo', input: { text: 'hi' } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1_1', toolName: 'echo', output: { type: 'text', value: 'echoed: hi' } }] },
    ]);
    expect(second.error).toBeUndefined();
    expect(second.text).toBe('Done.');
    expect(server.violations).toEqual([]);
    expect(server.requests.map((request) => request.wire)).toEqual([wire, wire]);
  });

  it('rejects a request that omits the result of a tool call, and records why', async () => {
    const server = await start({
      name: 'missing-result',
      turns: [{ respond: { toolCalls: [{ name: 'echo', input: { text: 'a' } }] } }, { respond: { text: 'never' } }],
    });
    const model = wires[wire](server);
    await collect(model, [{ role: 'user', content: 'go' }]);
    const second = await collect(model, [{ role: 'user', content: 'go' }, { role: 'assistant', content: 'I did nothing' }]);
    expect(APICallError.isInstance(second.error)).toBe(true);
    expect((second.error as APICallError).statusCode).toBe(400);
    expect(server.violations).toEqual(['request 2: no tool result for tool call call_1_1']);
  });

  it('rejects a request that leaves out a required tool', async () => {
    const server = await start({ name: 'needs-screen', requireTools: ['screen'], turns: [{ respond: { text: 'x' } }] });
    const result = await collect(wires[wire](server), [{ role: 'user', content: 'go' }]);
    expect(result.error).toBeDefined();
    expect(server.violations).toEqual(['request 1: tool "screen" is not declared']);
  });

  it('injects a 429 with Retry-After and a 500', async () => {
    const server = await start({
      name: 'faults',
      turns: [{ fault: { status: 429, retryAfterSeconds: 2 } }, { fault: { status: 500 } }, { respond: { text: 'ok' } }],
    });
    const model = wires[wire](server);
    const limited = await collect(model, [{ role: 'user', content: 'go' }]);
    expect((limited.error as APICallError).statusCode).toBe(429);
    expect((limited.error as APICallError).responseHeaders?.['retry-after']).toBe('2');
    expect((limited.error as APICallError).isRetryable).toBe(true);
    const broken = await collect(model, [{ role: 'user', content: 'go' }]);
    expect((broken.error as APICallError).statusCode).toBe(500);
    const fine = await collect(model, [{ role: 'user', content: 'go' }]);
    expect(fine.text).toBe('ok');
  });

  it('flags any image sent to a text-only model and accepts a PNG otherwise', async () => {
    const messages: ModelMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', image: png, mediaType: 'image/png' }] },
    ];
    const textOnly = await start({ name: 'text-only', forbidImages: true, turns: [{ respond: { text: 'x' } }] });
    expect((await collect(wires[wire](textOnly), messages)).error).toBeDefined();
    expect(textOnly.violations).toEqual(['request 1: a text-only model received 1 image(s)']);

    const vision = await start({ name: 'vision', turns: [{ respond: { text: 'I see it' } }] });
    expect((await collect(wires[wire](vision), messages)).text).toBe('I see it');
    expect(vision.violations).toEqual([]);
  });

  it('refuses a wrong API key', async () => {
    const server = await start({ name: 'key', turns: [{ respond: { text: 'x' } }] }, 'right-key');
    const result = await collect(wires[wire](server), [{ role: 'user', content: 'go' }]);
    expect((result.error as APICallError).statusCode).toBe(401);
  });
});
