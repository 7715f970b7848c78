import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';
import { truncateHeadTail } from './truncate.js';

const png = (n: number): Buffer => Buffer.from([0x89, 0x50, 0x4e, 0x47, n]);

function addScreenshot(conversation: Conversation, n: number): boolean {
  conversation.addAssistant('', [{ toolCallId: `c${n}`, toolName: 'screen', input: {} }]);
  return conversation.addToolResults([{ toolCallId: `c${n}`, toolName: 'screen', text: `look ${n}`, isError: false, png: png(n) }]);
}

describe('Conversation', () => {
  it('keeps the last few screenshots and drops older ones several at a time', () => {
    const conversation = new Conversation({ keepImages: 3, dropChunk: 3 });
    conversation.addUser('task');
    const counts: number[] = [];
    const drops: boolean[] = [];
    for (let n = 1; n <= 9; n++) {
      drops.push(addScreenshot(conversation, n));
      counts.push(conversation.imageCount);
    }
    // Grows to 5, drops to 3 on the 6th, grows again: the prefix changes once every 3 looks.
    expect(counts).toEqual([1, 2, 3, 4, 5, 3, 4, 5, 3]);
    expect(drops.map((dropped, index) => (dropped ? index + 1 : 0)).filter(Boolean)).toEqual([6, 9]);
    const rendered = JSON.stringify(conversation.render('in-tool-result'));
    expect(rendered).toContain('look 1\\n(Screenshot no longer attached.)');
    expect(rendered).not.toContain('look 9\\n(Screenshot no longer attached.)');
  });

  it('renders screenshots inside tool results, after them in a user message, or not at all', () => {
    const conversation = new Conversation({ keepImages: 3, dropChunk: 3 });
    conversation.addUser('task');
    addScreenshot(conversation, 1);
    const inResult = conversation.render('in-tool-result');
    expect(inResult.at(-1)).toMatchObject({ role: 'tool', content: [{ output: { type: 'content', value: [{ type: 'text' }, { type: 'image-data' }] } }] });
    const asMessage = conversation.render('user-message');
    expect(asMessage.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(asMessage.at(-1)).toMatchObject({ content: [{ type: 'text' }, { type: 'image', mediaType: 'image/png' }] });
    const none = conversation.render('none');
    expect(JSON.stringify(none)).not.toContain('image');
  });
});

describe('truncateHeadTail', () => {
  it('keeps head and tail with a marker that counts what was left out', () => {
    const text = Array.from({ length: 1000 }, (_, index) => `line ${index}`).join('\n');
    const { text: short, truncated } = truncateHeadTail(text, 200);
    expect(truncated).toBe(true);
    expect(short.startsWith('line 0\n')).toBe(true);
    expect(short.endsWith('line 999')).toBe(true);
    expect(short).toMatch(/\[… \d+ characters \(\d+ lines\) omitted …\]/);
    expect(truncateHeadTail('short', 200)).toEqual({ text: 'short', truncated: false });
  });
});
