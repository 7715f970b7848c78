import type { ServerResponse } from 'node:http';
import type { ScriptRespond } from './script.js';

/** A scripted reply with the ids the server gave its tool calls. */
export interface PlannedReply {
  respond: ScriptRespond;
  model: string;
  toolCallIds: string[];
  responseId: string;
}

function sse(response: ServerResponse, data: unknown, event?: string): void {
  response.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

/**
 * How a Chat Completions-style provider streams: OpenAI sends tool calls in pieces and usage
 * in a last chunk without choices; xAI, Mistral and Groq send each tool call whole; Mistral
 * puts usage on the finishing chunk and Groq under `x_groq`.
 */
export type ChatDialect = 'openai' | 'xai' | 'mistral' | 'groq';

/** Writes a reply as OpenAI Chat Completions server-sent events. */
export function writeOpenAiStream(response: ServerResponse, reply: PlannedReply, dialect: ChatDialect = 'openai'): void {
  const { respond } = reply;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id: reply.responseId, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: reply.model };
  sse(response, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  if (respond.text) {
    // Two chunks, so clients see real deltas.
    const middle = Math.ceil(respond.text.length / 2);
    for (const piece of [respond.text.slice(0, middle), respond.text.slice(middle)]) {
      if (piece) sse(response, { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
  }
  respond.toolCalls.forEach((call, index) => {
    const args = JSON.stringify(call.input);
    const id = reply.toolCallIds[index];
    if (dialect !== 'openai') {
      sse(response, { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: args } }] }, finish_reason: null }] });
      return;
    }
    sse(response, {
      ...base,
      choices: [{ index: 0, delta: { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }, finish_reason: null }],
    });
    sse(response, { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: args } }] }, finish_reason: null }] });
  });
  const finish = respond.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const usage = {
    prompt_tokens: respond.usage.input,
    completion_tokens: respond.usage.output,
    total_tokens: respond.usage.input + respond.usage.output,
    prompt_tokens_details: { cached_tokens: respond.usage.cached },
  };
  const finishChunk = { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] };
  if (dialect === 'mistral') sse(response, { ...finishChunk, usage });
  else if (dialect === 'groq') sse(response, { ...finishChunk, x_groq: { id: reply.responseId, usage } });
  else {
    sse(response, finishChunk);
    sse(response, { ...base, choices: [], usage });
  }
  response.end('data: [DONE]\n\n');
}

/** Writes a reply as Anthropic Messages server-sent events. */
export function writeAnthropicStream(response: ServerResponse, reply: PlannedReply): void {
  const { respond } = reply;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  // Anthropic counts cache reads apart from input_tokens.
  const uncached = Math.max(0, respond.usage.input - respond.usage.cached);
  sse(
    response,
    {
      type: 'message_start',
      message: {
        id: reply.responseId,
        type: 'message',
        role: 'assistant',
        model: reply.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: uncached, output_tokens: 1, cache_read_input_tokens: respond.usage.cached, cache_creation_input_tokens: 0 },
      },
    },
    'message_start',
  );
  let index = 0;
  if (respond.text) {
    sse(response, { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start');
    const middle = Math.ceil(respond.text.length / 2);
    for (const piece of [respond.text.slice(0, middle), respond.text.slice(middle)]) {
      if (piece) sse(response, { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }, 'content_block_delta');
    }
    sse(response, { type: 'content_block_stop', index }, 'content_block_stop');
    index++;
  }
  respond.toolCalls.forEach((call, callIndex) => {
    sse(
      response,
      { type: 'content_block_start', index, content_block: { type: 'tool_use', id: reply.toolCallIds[callIndex], name: call.name, input: {} } },
      'content_block_start',
    );
    sse(response, { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(call.input) } }, 'content_block_delta');
    sse(response, { type: 'content_block_stop', index }, 'content_block_stop');
    index++;
  });
  sse(
    response,
    {
      type: 'message_delta',
      delta: { stop_reason: respond.toolCalls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: respond.usage.output },
    },
    'message_delta',
  );
  sse(response, { type: 'message_stop' }, 'message_stop');
  response.end();
}

/** An error body in the wire format's own shape. */
export function errorBody(wire: 'openai' | 'anthropic' | 'responses' | 'google', status: number, message: string): unknown {
  if (wire === 'google') return { error: { code: status, message, status: status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT' } };
  if (wire === 'anthropic') {
    const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  }
  return { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null, param: null } };
}

/** Writes a reply as OpenAI Responses API server-sent events. */
export function writeResponsesStream(response: ServerResponse, reply: PlannedReply): void {
  const { respond } = reply;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (data: { type: string } & Record<string, unknown>): void => sse(response, data, data.type);
  event({ type: 'response.created', response: { id: reply.responseId, created_at: Math.floor(Date.now() / 1000), model: reply.model } });
  let outputIndex = 0;
  if (respond.text) {
    const item = { type: 'message', id: `msg_${reply.responseId}` };
    event({ type: 'response.output_item.added', output_index: outputIndex, item });
    const middle = Math.ceil(respond.text.length / 2);
    for (const piece of [respond.text.slice(0, middle), respond.text.slice(middle)]) {
      if (piece) event({ type: 'response.output_text.delta', item_id: item.id, delta: piece });
    }
    event({ type: 'response.output_item.done', output_index: outputIndex, item });
    outputIndex++;
  }
  respond.toolCalls.forEach((call, index) => {
    const id = `fc_${reply.toolCallIds[index] ?? index}`;
    const callId = reply.toolCallIds[index] ?? `call_${index}`;
    const args = JSON.stringify(call.input);
    event({ type: 'response.output_item.added', output_index: outputIndex, item: { type: 'function_call', id, call_id: callId, name: call.name, arguments: '' } });
    event({ type: 'response.function_call_arguments.delta', item_id: id, output_index: outputIndex, delta: args });
    event({ type: 'response.function_call_arguments.done', item_id: id, output_index: outputIndex, arguments: args });
    event({
      type: 'response.output_item.done',
      output_index: outputIndex,
      item: { type: 'function_call', id, call_id: callId, name: call.name, arguments: args, status: 'completed' },
    });
    outputIndex++;
  });
  event({
    type: 'response.completed',
    response: {
      usage: {
        input_tokens: respond.usage.input,
        input_tokens_details: { cached_tokens: respond.usage.cached },
        output_tokens: respond.usage.output,
        output_tokens_details: { reasoning_tokens: 0 },
      },
    },
  });
  response.end();
}

/** Writes a reply as Google Gemini streamGenerateContent server-sent events. */
export function writeGoogleStream(response: ServerResponse, reply: PlannedReply): void {
  const { respond } = reply;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (parts: unknown[]): void => sse(response, { candidates: [{ content: { role: 'model', parts }, index: 0 }], responseId: reply.responseId });
  if (respond.text) {
    const middle = Math.ceil(respond.text.length / 2);
    for (const piece of [respond.text.slice(0, middle), respond.text.slice(middle)]) if (piece) chunk([{ text: piece }]);
  }
  if (respond.toolCalls.length > 0) {
    chunk(respond.toolCalls.map((call, index) => ({ functionCall: { id: reply.toolCallIds[index], name: call.name, args: call.input } })));
  }
  sse(response, {
    candidates: [{ finishReason: 'STOP', index: 0 }],
    responseId: reply.responseId,
    usageMetadata: {
      promptTokenCount: respond.usage.input,
      candidatesTokenCount: respond.usage.output,
      totalTokenCount: respond.usage.input + respond.usage.output,
      cachedContentTokenCount: respond.usage.cached,
    },
  });
  response.end();
}
