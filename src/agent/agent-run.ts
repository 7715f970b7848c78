import type { ModelMessage, SystemModelMessage } from 'ai';
import { describeError, NexoraError } from '../errors.js';
import { addCosts, costOf, zeroCost, type Cost } from '../providers/cost.js';
import { processLatency, type LatencyTracker } from '../providers/latency.js';
import type { ResolvedModel } from '../providers/registry.js';
import type { RetryPolicy } from '../providers/retry.js';
import { callWithFallback } from '../providers/with-fallback.js';
import type { VisualTools } from '../tools/types.js';
import type { ApprovalGuard } from './approval.js';
import { Conversation, type ConversationEntry, type ImageMode, type ToolResultEntry } from './conversation.js';
import { conversationEventKinds, toRecordedEntry, type ConversationImages } from './conversation-record.js';
import { AgentEventStream } from './event-stream.js';
import type { AgentEvent, RunOutcome } from './events.js';
import { callModelOnce, type ModelStepResult } from './model-step.js';
import { runTool } from './run-tool.js';
import { ScreenContext } from './screen-text.js';
import { systemPrompt } from './system-prompt.js';
import { modelTools } from './tool-schemas.js';

/** Writes one event to the session's events table (the CLI binds it to EventStore.record). */
export type EventRecorder = (event: { kind: string; payload: unknown; durationMs?: number }) => Promise<void>;

export interface AgentRunOptions {
  sessionId: string;
  task: string;
  tools: VisualTools;
  /** Models to use, best first; later ones are fallbacks. */
  candidates: ResolvedModel[];
  retry: RetryPolicy;
  maxSteps: number;
  maxCostUsd?: number;
  keepImages: number;
  imageDropChunk: number;
  maxToolOutputChars: number;
  maxOutputTokens: number;
  screenImages: 'auto' | 'never';
  /** The project's path inside the workstation. */
  workspace?: string;
  /** The project's and the user's instructions (instructionsPrompt), added to the system prompt. */
  instructions?: string;
  /** An earlier conversation to carry on (restoreEntries), before the task. */
  history?: ConversationEntry[];
  /** Said to the model with the task when `history` is given: what changed since (a new workstation…). */
  resumeNote?: string;
  /** Where the conversation's screenshots are kept, so a later resume can show them again. */
  images?: ConversationImages;
  record?: EventRecorder;
  signal?: AbortSignal;
  latency?: LatencyTracker;
  /** Which commands need a person's yes (default: none). */
  approval?: ApprovalGuard;
}

export interface RunResult {
  outcome: RunOutcome;
  reason: string;
  steps: number;
  durationMs: number;
  cost: Cost;
  finalText: string;
  /** The model that answered last. */
  model: string | undefined;
}

export interface AgentRun {
  events: AgentEventStream;
  result: Promise<RunResult>;
}

/** Starts the agent on a task; events stream while `result` settles when the run ends. */
export function startAgentRun(options: AgentRunOptions): AgentRun {
  const events = new AgentEventStream();
  const result = runLoop(options, events).finally(() => events.close());
  return { events, result };
}

async function runLoop(options: AgentRunOptions, stream: AgentEventStream): Promise<RunResult> {
  const started = performance.now();
  const signal = options.signal ?? new AbortController().signal;
  const latency = options.latency ?? processLatency;
  const record = options.record ?? (() => Promise.resolve());
  const emit = async (event: AgentEvent, durationMs?: number): Promise<void> => {
    stream.emit(event);
    if (event.type === 'text-delta') return;
    const { type, ...payload } = event;
    await record({ kind: type, payload, ...(durationMs !== undefined ? { durationMs } : {}) });
  };

  if (options.candidates.length === 0) throw new NexoraError('provider-unavailable', 'The agent was given no model to use.');
  let candidates = [...options.candidates];
  const conversation = new Conversation({ keepImages: options.keepImages, dropChunk: options.imageDropChunk });
  const screens = new ScreenContext();
  const tools = modelTools();
  const vision = candidates[0]?.info.capabilities.vision === true && options.screenImages === 'auto' && options.keepImages > 0;
  const system: SystemModelMessage = {
    role: 'system',
    content: systemPrompt({ workspace: options.workspace ?? '/workspace', vision }) + (options.instructions ? `\n\n${options.instructions}` : ''),
    // Anthropic caches the prompt prefix up to a marked block; the system prompt never changes.
    providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } },
  };
  // Sent with every request besides the conversation: the system prompt (project instructions
  // included) and the tool definitions, about 150 tokens each.
  const fixedTokens = Math.ceil(system.content.length / 4) + Object.keys(tools).length * 150;
  // Every turn is recorded as it is added, so the conversation can be resumed later.
  const append = async (entry: ConversationEntry, imageRefs?: Map<string, string>): Promise<void> => {
    await record({ kind: conversationEventKinds.append, payload: toRecordedEntry(entry, imageRefs) });
  };
  const addResults = async (results: ToolResultEntry[]): Promise<boolean> => {
    const imageRefs = new Map<string, string>();
    for (const result of results) {
      // A screenshot that cannot be kept only means a resume will not show it again.
      const ref = result.png ? await options.images?.save(result.png).catch(() => undefined) : undefined;
      if (ref) imageRefs.set(result.toolCallId, ref);
    }
    // Recorded before adding: adding may drop older screenshots, and the record keeps this one's.
    await append({ role: 'tool', results: results.map((result) => ({ ...result })) }, imageRefs);
    return conversation.addToolResults(results);
  };
  const closePending = async (text: string): Promise<void> => {
    const pending = conversation.pendingToolCalls();
    if (pending.length > 0) await addResults(pending.map((call) => ({ ...call, text, isError: true })));
  };
  if (options.history && options.history.length > 0) conversation.restore(options.history);
  const task = options.history && options.history.length > 0 && options.resumeNote ? `${options.resumeNote}\n\n${options.task}` : options.task;

  let cost: Cost = zeroCost;
  let steps = 0;
  let finalText = '';
  let model: string | undefined;
  const end = async (outcome: RunOutcome, reason: string): Promise<RunResult> => {
    const durationMs = performance.now() - started;
    const result: RunResult = { outcome, reason, steps, durationMs, cost, finalText, model };
    await emit({ type: 'run-end', outcome, reason, steps, durationMs, cost, finalText }, durationMs);
    return result;
  };

  await emit({
    type: 'run-start',
    sessionId: options.sessionId,
    task: options.task,
    candidates: candidates.map((candidate) => candidate.info.ref),
    maxSteps: options.maxSteps,
    maxCostUsd: options.maxCostUsd,
  });

  try {
    conversation.addUser(task);
    await append({ role: 'user', text: task });
    for (;;) {
      if (signal.aborted) return await end('interrupted', 'Interrupted by the user.');
      if (steps >= options.maxSteps) return await end('max-steps', `Stopped after ${steps} steps (--max-steps ${options.maxSteps}) before the task was finished.`);
      const step = ++steps;
      const stepStarted = performance.now();
      await emit({ type: 'step-start', step, model: candidates[0]?.info.ref ?? '?' });

      // Near the context window, older tool output is shrunk (once, in bulk).
      const contextTokens = candidates[0]?.info.capabilities.contextTokens ?? Number.POSITIVE_INFINITY;
      // One estimate per step serves the compaction check and the rate limiter (retries and
      // fallbacks send the same conversation); it is redone only when compaction shrank it.
      let estimate = fixedTokens + estimateTokens(conversation, options.maxOutputTokens);
      const estimated = estimate;
      if (estimated > contextTokens * 0.75) {
        const compactedResults = conversation.compactOlderHalf();
        if (compactedResults > 0) {
          estimate = fixedTokens + estimateTokens(conversation, options.maxOutputTokens);
          screens.forgetImage();
          // Recorded for the transcript only: not (yet) part of the AgentEvent union that the TUI consumes.
          await record({ kind: 'context-compact', payload: { step, estimatedTokens: estimated, contextTokens, compactedResults } });
        }
      }
      const notices: Promise<void>[] = [];
      const { value: reply, candidate } = await callWithFallback<ModelStepResult>({
        candidates,
        policy: options.retry,
        signal,
        run: async (current) => {
          await current.limiter?.acquire({ tokens: estimate, signal });
          const reply = await callModelOnce({
            candidate: current,
            system,
            messages: withCacheBreakpoint(conversation.render(imageMode(current, options))),
            tools,
            maxOutputTokens: options.maxOutputTokens,
            signal,
            onTextDelta: (text) => stream.emit({ type: 'text-delta', step, text }),
          });
          current.limiter?.settle(estimate, reply.usage.inputTokens + reply.usage.outputTokens);
          latency.record(current.info.ref, reply.firstPartMs);
          return reply;
        },
        onRetry: (notice) => notices.push(emit({ type: 'model-retry', step, ...notice })),
        onFallback: (notice) => notices.push(emit({ type: 'model-fallback', step, ...notice })),
      }).finally(() => Promise.all(notices.splice(0)));
      // Stay on the model that answered.
      candidates = [candidate, ...candidates.filter((other) => other !== candidate)];
      model = candidate.info.ref;
      const stepCost = costOf(reply.usage, candidate.info.prices);
      cost = addCosts(cost, stepCost);
      const calls = reply.toolCalls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input }));
      conversation.addAssistant(reply.text, calls);
      await append({ role: 'assistant', text: reply.text, toolCalls: calls });
      if (reply.text) finalText = reply.text;
      await emit(
        {
          type: 'step-end',
          step,
          model: candidate.info.ref,
          text: reply.text,
          toolCalls: reply.toolCalls.length,
          finishReason: reply.finishReason,
          cost: stepCost,
          sessionCost: cost,
          durationMs: performance.now() - stepStarted,
        },
        performance.now() - stepStarted,
      );

      if (reply.toolCalls.length === 0) return await end('completed', 'The model reported the task done.');
      if (options.maxCostUsd !== undefined && cost.usd >= options.maxCostUsd) {
        await closePending('Not run: the run reached its cost budget.');
        return await end('budget', `Stopped: spent $${cost.usd.toFixed(4)}, at or over the budget of $${options.maxCostUsd} (--max-cost).`);
      }

      const wantImage = imageMode(candidate, options) !== 'none';
      // Screenshots in the size of the model that asked for them; a text-only model reads
      // window geometry in display pixels.
      options.tools.setImageSize?.(wantImage ? candidate.info.imageSize : undefined);
      const results: Parameters<Conversation['addToolResults']>[0] = [];
      for (const call of reply.toolCalls) {
        if (signal.aborted) break;
        await emit({ type: 'tool-call-start', step, toolCallId: call.toolCallId, toolName: call.toolName, input: call.input });
        const toolStarted = performance.now();
        const outcome = call.invalidReason
          ? { text: `Invalid tool call: ${call.invalidReason}. Fix the arguments and call it again.`, summary: 'invalid call', isError: true, png: undefined }
          : await runTool({
              tools: options.tools,
              name: call.toolName,
              input: call.input,
              screens,
              wantImage,
              maxOutputChars: options.maxToolOutputChars,
              signal,
              ...(options.approval ? { approval: options.approval } : {}),
            });
        const durationMs = performance.now() - toolStarted;
        results.push({ toolCallId: call.toolCallId, toolName: call.toolName, text: outcome.text, isError: outcome.isError, ...(outcome.png ? { png: outcome.png } : {}) });
        await emit(
          {
            type: 'tool-call-end',
            step,
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            summary: outcome.summary,
            isError: outcome.isError,
            durationMs,
            imageSent: outcome.png !== undefined,
          },
          durationMs,
        );
      }
      for (const call of reply.toolCalls.slice(results.length)) {
        results.push({ toolCallId: call.toolCallId, toolName: call.toolName, text: 'Not run: interrupted by the user.', isError: true });
      }
      if (await addResults(results)) screens.forgetImage();
      if (signal.aborted) {
        await closePending('Not run: interrupted by the user.');
        return await end('interrupted', 'Interrupted by the user.');
      }
    }
  } catch (error) {
    if (signal.aborted || NexoraError.is(error, 'aborted')) {
      // A tool call cut short still gets a result, so a resume shows the model what happened.
      await closePending('Interrupted by the user while it ran; it may have done part of its work.').catch(() => undefined);
      return await end('interrupted', 'Interrupted by the user.');
    }
    return await end('failed', describeError(error));
  }
}

function imageMode(candidate: ResolvedModel, options: AgentRunOptions): ImageMode {
  if (options.screenImages === 'never' || options.keepImages === 0 || !candidate.info.capabilities.vision) return 'none';
  return candidate.imagesInToolResults ? 'in-tool-result' : 'user-message';
}

/** A rough token count for the rate limiter: 4 characters a token, about 1,500 per screenshot. */
function estimateTokens(conversation: Conversation, maxOutputTokens: number): number {
  const text = JSON.stringify(conversation.render('none')).length;
  return Math.ceil(text / 4) + conversation.imageCount * 1500 + Math.min(maxOutputTokens, 1000);
}

/**
 * Marks the newest message as a prompt-cache breakpoint (Anthropic; others cache on their
 * own), so each step reads the previous steps' prefix from the cache.
 */
function withCacheBreakpoint(messages: ModelMessage[]): ModelMessage[] {
  const last = messages.at(-1);
  if (!last) return messages;
  return [...messages.slice(0, -1), { ...last, providerOptions: { ...last.providerOptions, anthropic: { cacheControl: { type: 'ephemeral' } } } }];
}
