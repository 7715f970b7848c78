import { streamText, type ModelMessage, type SystemModelMessage, type ToolSet } from 'ai';
import type { TokenUsage } from '../providers/cost.js';
import type { ResolvedModel } from '../providers/registry.js';

export interface ModelStepResult {
  text: string;
  toolCalls: { toolCallId: string; toolName: string; input: unknown; invalidReason?: string }[];
  usage: TokenUsage;
  finishReason: string;
  /** Time to the first streamed part. */
  firstPartMs: number;
}

/**
 * One call to the model, streamed: text deltas are passed on as they arrive, tool calls are
 * collected (the loop runs them). Errors are thrown so the caller can retry or fall back;
 * the SDK's own retries are off for the same reason.
 */
export async function callModelOnce(options: {
  candidate: ResolvedModel;
  system: SystemModelMessage;
  messages: ModelMessage[];
  tools: ToolSet;
  maxOutputTokens: number;
  signal: AbortSignal;
  onTextDelta: (text: string) => void;
}): Promise<ModelStepResult> {
  const { candidate, signal } = options;
  const started = performance.now();
  let firstPartMs: number | undefined;
  const result = streamText({
    model: candidate.model,
    system: options.system,
    messages: options.messages,
    tools: options.tools,
    maxOutputTokens: options.maxOutputTokens,
    maxRetries: 0,
    abortSignal: signal,
    // Errors arrive as stream parts below; the default handler would print them.
    onError: () => undefined,
  });
  let text = '';
  const toolCalls: ModelStepResult['toolCalls'] = [];
  let finishReason = 'unknown';
  let usage: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  for await (const part of result.fullStream) {
    if (firstPartMs === undefined && part.type !== 'start' && part.type !== 'start-step') firstPartMs = performance.now() - started;
    switch (part.type) {
      case 'text-delta':
        text += part.text;
        options.onTextDelta(part.text);
        break;
      case 'tool-call':
        toolCalls.push({
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          input: part.input,
          ...(part.invalid ? { invalidReason: describeInvalid(part.error) } : {}),
        });
        break;
      case 'tool-error':
        // An unparsable or invalid call: the loop tells the model what was wrong.
        toolCalls.push({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input, invalidReason: describeInvalid(part.error) });
        break;
      case 'finish-step':
        finishReason = part.finishReason;
        usage = {
          inputTokens: part.usage.inputTokens ?? 0,
          outputTokens: part.usage.outputTokens ?? 0,
          cachedInputTokens: part.usage.inputTokenDetails.cacheReadTokens ?? 0,
        };
        break;
      case 'error':
        throw part.error;
      case 'abort':
        throw signal.reason ?? new Error('aborted');
      default:
        break;
    }
  }
  // Invalid calls surface both as a tool-call flagged invalid and as a tool-error; keep one.
  const unique = [...new Map(toolCalls.map((call) => [call.toolCallId, call])).values()];
  return { text, toolCalls: unique, usage, finishReason, firstPartMs: firstPartMs ?? performance.now() - started };
}

function describeInvalid(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
