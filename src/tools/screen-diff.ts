import type { ScreenChanges } from './types.js';

/** The rows that differ between two looks at the terminal. */
export function diffScreens(previous: readonly string[] | undefined, current: readonly string[]): ScreenChanges {
  if (previous === undefined) {
    return { firstLook: true, changedLines: [], summary: 'first look' };
  }
  const changedLines: ScreenChanges['changedLines'] = [];
  const rows = Math.max(previous.length, current.length);
  for (let row = 0; row < rows; row++) {
    const before = previous[row] ?? '';
    const after = current[row] ?? '';
    if (before !== after) changedLines.push({ row, text: after });
  }
  return { firstLook: false, changedLines, summary: summarise(changedLines.map((line) => line.row)) };
}

function summarise(rows: number[]): string {
  if (rows.length === 0) return 'no change';
  const ranges: string[] = [];
  let start = rows[0]!;
  let end = start;
  for (const row of rows.slice(1)) {
    if (row === end + 1) {
      end = row;
      continue;
    }
    ranges.push(start === end ? `${start}` : `${start}-${end}`);
    start = end = row;
  }
  ranges.push(start === end ? `${start}` : `${start}-${end}`);
  return `${rows.length} line${rows.length === 1 ? '' : 's'} changed (row${rows.length === 1 ? '' : 's'} ${ranges.join(', ')})`;
}
