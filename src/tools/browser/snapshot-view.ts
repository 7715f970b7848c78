/**
 * How a page snapshot reaches the model: whole the first time (truncated on big pages), and
 * as the changed lines only when the same page changed little since the last look, the same
 * lean-context rule the terminal screen follows.
 */

export interface SnapshotViewOptions {
  /** The snapshot's lines (Playwright's aria snapshot in "ai" mode: YAML with [ref=eN]). */
  snapshot: string;
  /** The previous snapshot of the same page, if any. */
  previous?: string;
  /** Send the whole snapshot even when little changed. */
  full?: boolean;
  /** Longest text returned. */
  maxChars: number;
}

export interface SnapshotView {
  text: string;
  kind: 'full' | 'changes' | 'unchanged';
  truncated: boolean;
  /** Lines added plus removed against the previous snapshot (0 for a first look). */
  changedLines: number;
}

/** Above this share of changed lines, the whole snapshot is clearer than a diff. */
const maxChangeShare = 0.4;
/** Beyond this many cells the diff is not worth computing: send the whole snapshot. */
const maxDiffCells = 4_000_000;

export function viewSnapshot(options: SnapshotViewOptions): SnapshotView {
  const lines = options.snapshot.split('\n');
  if (options.previous !== undefined && !options.full) {
    const before = options.previous.split('\n');
    if (options.previous === options.snapshot) return { text: '(unchanged since your last snapshot of this page; its refs still hold)', kind: 'unchanged', truncated: false, changedLines: 0 };
    const hunks = before.length * lines.length <= maxDiffCells ? diffLines(before, lines) : undefined;
    if (hunks) {
      const changed = hunks.reduce((sum, hunk) => sum + hunk.removed.length + hunk.added.length, 0);
      if (changed <= Math.max(lines.length, before.length) * maxChangeShare || changed <= 8) {
        const body = hunks
          .map((hunk) => [`@@ at line ${hunk.line + 1}${hunk.context !== undefined ? ` after: ${hunk.context.trim()}` : ''}`, ...hunk.removed.map((line) => `- ${line}`), ...hunk.added.map((line) => `+ ${line}`)].join('\n'))
          .join('\n');
        const text = `${changed} of ${lines.length} lines changed since your last snapshot of this page (the rest, refs included, is as it was; browser_snapshot({ full: true }) for all):\n${body}`;
        const clipped = clip(text, options.maxChars);
        return { text: clipped.text, kind: 'changes', truncated: clipped.truncated, changedLines: changed };
      }
    }
  }
  const clipped = clip(options.snapshot, options.maxChars);
  return { text: clipped.text, kind: 'full', truncated: clipped.truncated, changedLines: options.previous === undefined ? 0 : lines.length };
}

/** Keeps whole lines from the top (a page reads top-down), with a marker saying what is left out. */
function clip(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const lines = text.split('\n');
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > maxChars - 200) break;
    kept.push(line);
    size += line.length + 1;
  }
  const left = lines.length - kept.length;
  return {
    text: `${kept.join('\n')}\n[… ${left} more lines (${text.length - size} characters) not shown: browser_snapshot({ ref }) reads one part of the page, browser_scroll and a new snapshot the rest …]`,
    truncated: true,
  };
}

interface Hunk {
  /** 0-based line in the new snapshot where the hunk starts. */
  line: number;
  /** The unchanged line just before the hunk, to place it. */
  context?: string;
  removed: string[];
  added: string[];
}

/** A line diff by longest common subsequence (the snapshots are small enough, see maxDiffCells). */
export function diffLines(before: string[], after: string[]): Hunk[] {
  const rows = before.length;
  const columns = after.length;
  const table = new Uint32Array((rows + 1) * (columns + 1));
  const at = (row: number, column: number): number => table[row * (columns + 1) + column]!;
  for (let row = rows - 1; row >= 0; row--) {
    for (let column = columns - 1; column >= 0; column--) {
      table[row * (columns + 1) + column] = before[row] === after[column] ? at(row + 1, column + 1) + 1 : Math.max(at(row + 1, column), at(row, column + 1));
    }
  }
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  let row = 0;
  let column = 0;
  const open = (): Hunk => {
    current ??= { line: column, ...(column > 0 ? { context: after[column - 1] } : {}), removed: [], added: [] };
    return current;
  };
  while (row < rows || column < columns) {
    if (row < rows && column < columns && before[row] === after[column]) {
      if (current) hunks.push(current);
      current = undefined;
      row++;
      column++;
    } else if (column < columns && (row >= rows || at(row, column + 1) >= at(row + 1, column))) {
      open().added.push(after[column]!);
      column++;
    } else {
      open().removed.push(before[row]!);
      row++;
    }
  }
  if (current) hunks.push(current);
  return hunks;
}
