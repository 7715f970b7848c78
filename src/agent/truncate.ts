/**
 * Keeps the head and tail of long text with an explicit marker between, so the model sees
 * both how output started and how it ended.
 */
export function truncateHeadTail(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const head = Math.floor(maxChars * 0.4);
  const tail = maxChars - head;
  const omitted = text.length - head - tail;
  const omittedLines = text.slice(head, text.length - tail).split('\n').length - 1;
  return {
    text: `${text.slice(0, head)}\n[… ${omitted} characters (${omittedLines} lines) omitted …]\n${text.slice(text.length - tail)}`,
    truncated: true,
  };
}
