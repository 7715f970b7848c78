import { NexoraError } from '../../errors.js';
import type { TmuxControl } from './tmux-control.js';

/**
 * The command line the terminal's active pane holds where its cursor is: what an Enter would
 * submit, as the screen shows it (prompt included: the reader cannot tell where a prompt ends).
 * Read-only: two tmux commands, no key is sent.
 */
export interface PromptLine {
  /** The logical line under the cursor, wrapped rows joined (the prompt is part of it). */
  text: string;
  /**
   * The logical lines just above it, oldest first (at most 20): a shell joins continuation
   * lines (`> ` after a backslash or an open quote) with the line it continues.
   */
  above: string[];
  /** The name of the pane's foreground process, as tmux reports it (untrusted text). */
  program: string;
}

const separator = '\u001f';
const maxAbove = 20;
/** Rows of history read above the screen: a long line may have started there. */
const historyRows = 100;

/**
 * Reads the active pane's cursor line. `capture-pane -J` joins rows that tmux wrapped, so a
 * command longer than the pane reads as one line; the rows are counted twice (to the cursor,
 * and the whole screen) to find which joined line holds the cursor.
 */
export async function readPromptLine(terminal: TmuxControl, options: { session?: string; signal?: AbortSignal } = {}): Promise<PromptLine> {
  const target = `-t ${options.session ?? 'main'}`;
  const commandOptions = options.signal ? { signal: options.signal } : {};
  const [state] = await terminal.command(`display-message -p ${target} '#{cursor_y}${separator}#{pane_height}${separator}#{pane_current_command}'`, commandOptions);
  const fields = (state ?? '').split(separator);
  const cursorRow = Number(fields[0]);
  const height = Number(fields[1]);
  if (fields.length < 3 || !Number.isInteger(cursorRow) || !Number.isInteger(height) || cursorRow < 0 || cursorRow >= height) {
    throw new NexoraError('workstation-failed', `tmux reported an unreadable cursor: ${JSON.stringify((state ?? '').slice(0, 200))}`);
  }
  const [toCursor, whole] = await Promise.all([
    terminal.command(`capture-pane -p -J ${target} -S -${historyRows} -E ${cursorRow}`, commandOptions),
    terminal.command(`capture-pane -p -J ${target} -S -${historyRows} -E ${height - 1}`, commandOptions),
  ]);
  // capture-pane ends the range at the cursor's row, so the last joined line of the first
  // capture is the start of the cursor's line; the second capture has all of it.
  const index = Math.max(0, toCursor.length - 1);
  return {
    text: whole[index] ?? toCursor[index] ?? '',
    above: whole.slice(Math.max(0, index - maxAbove), index),
    program: fields.slice(2).join(separator).slice(0, 256),
  };
}
