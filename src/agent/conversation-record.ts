import { z } from 'zod';
import type { ConversationEntry, ToolResultEntry } from './conversation.js';

/**
 * A conversation as the events table keeps it: every turn the loop adds is recorded as a
 * `conversation-append` event (screenshots by reference), so that a later run, in another
 * process or after a restart, can put the whole conversation back. A conversation that moved
 * to a new workstation starts its new session with a `conversation-continue` event naming
 * the session it came from.
 */
export const conversationEventKinds = {
  append: 'conversation-append',
  continue: 'conversation-continue',
} as const;

const toolCallSchema = z.looseObject({ toolCallId: z.string(), toolName: z.string(), input: z.unknown() });
const toolResultSchema = z.looseObject({
  toolCallId: z.string(),
  toolName: z.string(),
  text: z.string(),
  isError: z.boolean(),
  /** A screenshot attached to the result, as ConversationImages named it. */
  image: z.string().optional(),
});

export const recordedEntrySchema = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('user'), text: z.string() }),
  z.looseObject({ role: z.literal('assistant'), text: z.string(), toolCalls: z.array(toolCallSchema) }),
  z.looseObject({ role: z.literal('tool'), results: z.array(toolResultSchema) }),
]);
export type RecordedEntry = z.infer<typeof recordedEntrySchema>;

export const continuePayloadSchema = z.looseObject({
  fromSessionId: z.string(),
  /** `same`: the conversation's workstation was resumed; `new`: a new one was started. */
  workstation: z.enum(['same', 'new']),
});
export type ContinuePayload = z.infer<typeof continuePayloadSchema>;

/** Where a conversation's screenshots are kept between runs. */
export interface ConversationImages {
  /** Keeps a PNG; returns the reference recorded in the event. */
  save(png: Buffer): Promise<string>;
  /** The PNG for a reference, or undefined when it is gone. */
  load(ref: string): Promise<Buffer | undefined>;
}

export interface StoredEvent {
  kind: string;
  payload: unknown;
}

/** What restoring needs from the store (the CLI binds it to the events table). */
export interface ConversationSource {
  /** A session's events of these kinds, in the order they happened. */
  events(sessionId: string, kinds: readonly string[]): Promise<StoredEvent[]>;
}

export interface LoadedConversation {
  /** The sessions the conversation went through, oldest first (the given one last). */
  sessionIds: string[];
  entries: RecordedEntry[];
  /** The `run-end` events of all of them, for the totals. */
  runEnds: StoredEvent[];
}

/** The recorded entry for a turn (screenshots replaced by their references). */
export function toRecordedEntry(entry: ConversationEntry, imageRefs: ReadonlyMap<string, string> = new Map()): RecordedEntry {
  if (entry.role === 'user') return { role: 'user', text: entry.text };
  if (entry.role === 'assistant') return { role: 'assistant', text: entry.text, toolCalls: entry.toolCalls.map((call) => ({ ...call })) };
  return {
    role: 'tool',
    results: entry.results.map(({ toolCallId, toolName, text, isError }) => {
      const image = imageRefs.get(toolCallId);
      return { toolCallId, toolName, text, isError, ...(image ? { image } : {}) };
    }),
  };
}

/**
 * Reads a conversation back from the store, following `conversation-continue` links to the
 * sessions it came from. Entries that do not parse are skipped rather than failing the resume.
 */
export async function loadConversation(options: { sessionId: string; source: ConversationSource; maxSessions?: number }): Promise<LoadedConversation> {
  const chain: { sessionId: string; events: StoredEvent[] }[] = [];
  const seen = new Set<string>();
  let next: string | undefined = options.sessionId;
  while (next !== undefined && !seen.has(next) && chain.length < (options.maxSessions ?? 100)) {
    seen.add(next);
    const events = await options.source.events(next, [conversationEventKinds.append, conversationEventKinds.continue, 'run-end']);
    chain.unshift({ sessionId: next, events });
    const link = events.find((event) => event.kind === conversationEventKinds.continue);
    const parsed = link ? continuePayloadSchema.safeParse(link.payload) : undefined;
    // A conversation resumed on its own session links to itself: that is not an earlier session.
    next = parsed?.success && parsed.data.fromSessionId !== next ? parsed.data.fromSessionId : undefined;
  }
  const entries: RecordedEntry[] = [];
  const runEnds: StoredEvent[] = [];
  for (const { events } of chain) {
    for (const event of events) {
      if (event.kind === 'run-end') runEnds.push(event);
      if (event.kind !== conversationEventKinds.append) continue;
      const parsed = recordedEntrySchema.safeParse(event.payload);
      if (parsed.success) entries.push(parsed.data);
    }
  }
  return { sessionIds: chain.map((item) => item.sessionId), entries, runEnds };
}

/**
 * The conversation's turns ready for Conversation.restore: screenshots loaded for the last
 * `keepImages` results that had one (the keep-last rule), and every tool call that never got
 * a result (the process was killed mid-step) given one that says so.
 */
export async function restoreEntries(
  recorded: readonly RecordedEntry[],
  options: { keepImages: number; images?: ConversationImages | undefined },
): Promise<ConversationEntry[]> {
  const entries: ConversationEntry[] = [];
  const withImage: { result: ToolResultEntry; ref: string }[] = [];
  for (let index = 0; index < recorded.length; index++) {
    const entry = recorded[index] as RecordedEntry;
    if (entry.role === 'user') {
      entries.push({ role: 'user', text: entry.text });
      continue;
    }
    if (entry.role === 'tool') {
      // A results turn must follow the assistant turn that called the tools.
      if (entries.at(-1)?.role !== 'assistant') continue;
      const results = entry.results.map(({ toolCallId, toolName, text, isError, image }) => {
        const result: ToolResultEntry = { toolCallId, toolName, text, isError };
        if (image) withImage.push({ result, ref: image });
        return result;
      });
      entries.push({ role: 'tool', results });
      continue;
    }
    entries.push({ role: 'assistant', text: entry.text, toolCalls: entry.toolCalls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input })) });
    const following = recorded[index + 1];
    const answered = new Set(following?.role === 'tool' ? following.results.map((result) => result.toolCallId) : []);
    const missing = entry.toolCalls.filter((call) => !answered.has(call.toolCallId));
    if (missing.length === 0) continue;
    const closing = missing.map(({ toolCallId, toolName }) => ({ toolCallId, toolName, text: 'Not run: the run stopped before this call ran.', isError: true }));
    if (following?.role === 'tool') {
      // Completed below when the results turn is read: add the missing ones to it.
      following.results.push(...closing);
    } else {
      entries.push({ role: 'tool', results: closing });
    }
  }
  const keep = options.keepImages > 0 ? withImage.slice(-options.keepImages) : [];
  for (const { result, ref } of withImage) {
    const png = keep.some((item) => item.result === result) ? await options.images?.load(ref).catch(() => undefined) : undefined;
    if (png) result.png = png;
    else result.text += '\n(Screenshot no longer attached.)';
  }
  return entries;
}
