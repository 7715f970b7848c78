import type { ModelMessage, ToolResultPart } from 'ai';

export interface ToolResultEntry {
  toolCallId: string;
  toolName: string;
  text: string;
  isError: boolean;
  /** Screenshot attached to this result, until it is dropped. */
  png?: Buffer;
}

/** One turn of the conversation, provider-neutral. */
export type ConversationEntry =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: { toolCallId: string; toolName: string; input: unknown }[] }
  | { role: 'tool'; results: ToolResultEntry[] };

/** How the current model takes screenshots. */
export type ImageMode = 'in-tool-result' | 'user-message' | 'none';

/**
 * The run's conversation, kept provider-neutral, and rendered for the current model on every
 * step: screenshots inside tool results, in a user message after them, or not at all; only
 * the last few screenshots kept, older ones dropped several at a time so the prompt prefix
 * (and the provider's prompt cache) changes rarely.
 */
export class Conversation {
  private readonly entries: ConversationEntry[] = [];

  constructor(private readonly options: { keepImages: number; dropChunk: number }) {}

  /**
   * Puts back a conversation restored from the store, before anything else is added. Its
   * screenshots must already follow the keep-last rule (restoreEntries does that).
   */
  restore(entries: readonly ConversationEntry[]): void {
    if (this.entries.length > 0) throw new Error('Conversation.restore on a conversation that has entries');
    this.entries.push(...entries);
  }

  /** How many turns it has. */
  get length(): number {
    return this.entries.length;
  }

  addUser(text: string): void {
    this.entries.push({ role: 'user', text });
  }

  addAssistant(text: string, toolCalls: { toolCallId: string; toolName: string; input: unknown }[]): void {
    this.entries.push({ role: 'assistant', text, toolCalls });
  }

  /** Adds tool results; returns true when older screenshots were dropped to make room. */
  addToolResults(results: ToolResultEntry[]): boolean {
    this.entries.push({ role: 'tool', results });
    return this.pruneImages();
  }

  /** How many screenshots are in the conversation now. */
  get imageCount(): number {
    return this.results().filter((result) => result.png).length;
  }

  /** The messages for a model that takes images the given way. */
  render(mode: ImageMode): ModelMessage[] {
    const messages: ModelMessage[] = [];
    for (const entry of this.entries) {
      if (entry.role === 'user') {
        messages.push({ role: 'user', content: entry.text });
      } else if (entry.role === 'assistant') {
        const content: Exclude<ModelMessage & { role: 'assistant' }, undefined>['content'] = [];
        if (entry.text) content.push({ type: 'text', text: entry.text });
        for (const call of entry.toolCalls) content.push({ type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input });
        messages.push({ role: 'assistant', content });
      } else {
        const parts: ToolResultPart[] = [];
        const followUp: { text: string; png: Buffer }[] = [];
        for (const result of entry.results) {
          if (result.png && mode === 'in-tool-result') {
            parts.push({
              type: 'tool-result',
              toolCallId: result.toolCallId,
              toolName: result.toolName,
              output: { type: 'content', value: [{ type: 'text', text: result.text }, { type: 'image-data', data: result.png.toString('base64'), mediaType: 'image/png' }] },
            });
            continue;
          }
          const note = result.png && mode === 'user-message' ? '\n(The screenshot follows in the next message.)' : '';
          if (result.png && mode === 'user-message') followUp.push({ text: `Screenshot from ${result.toolName} (${result.toolCallId}):`, png: result.png });
          parts.push({
            type: 'tool-result',
            toolCallId: result.toolCallId,
            toolName: result.toolName,
            output: result.isError ? { type: 'error-text', value: result.text + note } : { type: 'text', value: result.text + note },
          });
        }
        messages.push({ role: 'tool', content: parts });
        if (followUp.length > 0) {
          messages.push({
            role: 'user',
            content: followUp.flatMap((item) => [
              { type: 'text' as const, text: item.text },
              { type: 'image' as const, image: item.png, mediaType: 'image/png' },
            ]),
          });
        }
      }
    }
    return messages;
  }

  /**
   * Shrinks the older half of the conversation's tool results to a line each (and drops their
   * screenshots) when it has grown near the model's context window. It happens in one go, so
   * the prompt prefix changes once rather than every step. Returns how many were shrunk.
   */
  compactOlderHalf(keepRecentEntries = 6): number {
    const limit = Math.max(0, Math.min(Math.floor(this.entries.length / 2), this.entries.length - keepRecentEntries));
    let compacted = 0;
    for (const entry of this.entries.slice(0, limit)) {
      if (entry.role !== 'tool') continue;
      for (const result of entry.results) {
        if (result.text.length <= 200 && !result.png) continue;
        const firstLine = result.text.split('\n', 1)[0]?.slice(0, 120) ?? '';
        result.text = `${firstLine}\n[older ${result.toolName} output omitted to stay within the model's context]`;
        delete result.png;
        compacted++;
      }
    }
    return compacted;
  }

  /** Tool calls of the last assistant turn that have no result yet. */
  pendingToolCalls(): { toolCallId: string; toolName: string }[] {
    const last = this.entries.at(-1);
    return last?.role === 'assistant' ? last.toolCalls : [];
  }

  private results(): ToolResultEntry[] {
    return this.entries.flatMap((entry) => (entry.role === 'tool' ? entry.results : []));
  }

  private pruneImages(): boolean {
    const withImages = this.results().filter((result) => result.png);
    const { keepImages, dropChunk } = this.options;
    if (withImages.length <= keepImages + dropChunk - 1) return false;
    // Drop down to keepImages at once: the conversation prefix then stays identical for the
    // next dropChunk - 1 screenshots.
    for (const result of withImages.slice(0, withImages.length - keepImages)) {
      delete result.png;
      result.text += '\n(Screenshot no longer attached.)';
    }
    return true;
  }
}
