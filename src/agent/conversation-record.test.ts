import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';
import { loadConversation, restoreEntries, toRecordedEntry, type ConversationSource, type RecordedEntry, type StoredEvent } from './conversation-record.js';

const png = (n: number): Buffer => Buffer.from([0x89, 0x50, 0x4e, 0x47, n]);

describe('conversation record', () => {
  it('restores turns, with screenshots for the last keepImages results only', async () => {
    const recorded: RecordedEntry[] = [{ role: 'user', text: 'task' }];
    for (let n = 1; n <= 4; n++) {
      recorded.push({ role: 'assistant', text: `look ${n}`, toolCalls: [{ toolCallId: `c${n}`, toolName: 'screen', input: {} }] });
      recorded.push(toRecordedEntry({ role: 'tool', results: [{ toolCallId: `c${n}`, toolName: 'screen', text: `screen ${n}`, isError: false }] }, new Map([[`c${n}`, `img-${n}`]])));
    }
    const loaded: string[] = [];
    const entries = await restoreEntries(recorded, {
      keepImages: 2,
      images: { save: () => Promise.resolve(''), load: (ref) => (loaded.push(ref), Promise.resolve(png(Number(ref.slice(4))))) },
    });
    expect(loaded).toEqual(['img-3', 'img-4']);
    const conversation = new Conversation({ keepImages: 2, dropChunk: 2 });
    conversation.restore(entries);
    expect(conversation.imageCount).toBe(2);
    const messages = conversation.render('in-tool-result');
    expect(messages).toHaveLength(9);
    expect(JSON.stringify(messages[2])).toContain('screen 1\\n(Screenshot no longer attached.)');
    expect(JSON.stringify(messages[8])).toContain('image-data');
  });

  it('answers tool calls that never got a result (a run killed mid-step)', async () => {
    const entries = await restoreEntries(
      [
        { role: 'user', text: 'task' },
        { role: 'assistant', text: '', toolCalls: [{ toolCallId: 'a', toolName: 'execute', input: { command: 'make' } }, { toolCallId: 'b', toolName: 'screen', input: {} }] },
        { role: 'tool', results: [{ toolCallId: 'a', toolName: 'execute', text: 'exit code 0', isError: false }] },
        { role: 'assistant', text: 'again', toolCalls: [{ toolCallId: 'c', toolName: 'screen', input: {} }] },
      ],
      { keepImages: 3 },
    );
    expect(entries.map((entry) => entry.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool']);
    const results = entries.flatMap((entry) => (entry.role === 'tool' ? entry.results : []));
    expect(results.map((result) => [result.toolCallId, result.isError])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
    ]);
    expect(results[2]?.text).toMatch(/^Not run: the run stopped/);
  });

  it('follows conversation-continue links back through earlier sessions, without looping', async () => {
    const events: Record<string, StoredEvent[]> = {
      s1: [
        { kind: 'conversation-append', payload: { role: 'user', text: 'first task' } },
        { kind: 'run-end', payload: { outcome: 'completed', cost: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, usd: 0.5 } } },
        // A malformed entry is skipped, not fatal.
        { kind: 'conversation-append', payload: { role: 'robot' } },
      ],
      s2: [
        { kind: 'conversation-continue', payload: { fromSessionId: 's1', workstation: 'new' } },
        { kind: 'conversation-append', payload: { role: 'user', text: 'second task' } },
      ],
      s3: [
        { kind: 'conversation-continue', payload: { fromSessionId: 's2', workstation: 'new' } },
        { kind: 'conversation-append', payload: { role: 'user', text: 'third task' } },
      ],
    };
    events.s1?.unshift({ kind: 'conversation-continue', payload: { fromSessionId: 's3', workstation: 'new' } });
    const source: ConversationSource = { events: (sessionId, kinds) => Promise.resolve((events[sessionId] ?? []).filter((event) => kinds.includes(event.kind))) };
    const loaded = await loadConversation({ sessionId: 's3', source });
    expect(loaded.sessionIds).toEqual(['s1', 's2', 's3']);
    expect(loaded.entries.map((entry) => (entry.role === 'user' ? entry.text : entry.role))).toEqual(['first task', 'second task', 'third task']);
    expect(loaded.runEnds).toHaveLength(1);
  });
});
