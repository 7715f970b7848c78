/** Short, fixed-width-friendly renderings for the TUI. */

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function formatTokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(count < 10_000 ? 1 : 0)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

export function formatUsd(usd: number): string {
  // Agent steps cost fractions of a cent: show them until the total reaches a dollar.
  return `$${usd.toFixed(usd > 0 && usd < 1 ? 4 : 2)}`;
}

const keyArgument: Record<string, string[]> = {
  keyboard: ['text', 'keys', 'waitFor'],
  execute: ['command', 'cwd'],
  mouse: ['action', 'x', 'y'],
  screen: ['full', 'ocr'],
};

/** The arguments that identify a tool call, on one line: `execute "npm test"`. */
export function describeToolInput(toolName: string, input: unknown): string {
  if (typeof input !== 'object' || input === null) return '';
  const record = input as Record<string, unknown>;
  const names = keyArgument[toolName] ?? Object.keys(record);
  const parts: string[] = [];
  for (const name of names) {
    const value = record[name];
    if (value === undefined) continue;
    if (toolName === 'mouse' && (name === 'x' || name === 'y')) continue;
    parts.push(typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? value.map(String).join('+') : `${name}=${JSON.stringify(value)}`);
  }
  if (toolName === 'mouse' && typeof record.x === 'number' && typeof record.y === 'number') parts.push(`(${record.x},${record.y})`);
  return parts.join(' ');
}

/** Cuts `text` to `width` columns with an ellipsis. */
export function clip(text: string, width: number): string {
  if (width <= 1) return text.slice(0, Math.max(0, width));
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The last `rows` non-trailing-blank lines of a terminal capture. */
export function tailLines(text: string, rows: number): string[] {
  const lines = text.split('\n').map((line) => line.replace(/\s+$/, ''));
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines.slice(-rows);
}
