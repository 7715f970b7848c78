import { NexoraError } from '../../errors.js';
import type { TmuxControl } from './tmux-control.js';

/** One pane of the visible tmux window, in the window's cell coordinates. */
export interface PaneBox {
  id: string;
  left: number;
  top: number;
  width: number;
  height: number;
  active: boolean;
  /** The pane's first process (its shell). */
  pid: number;
  /** The name of the pane's foreground process, as tmux reports it (untrusted text). */
  command: string;
}

/** The terminal window as a person sees it: every pane, the borders, the status line. */
export interface TerminalView {
  /** Every row of the terminal, status line included, trailing blanks trimmed per row. */
  rows: string[];
  /** The cursor of the active pane, in these rows' coordinates. */
  cursor: { column: number; row: number };
  width: number;
  height: number;
  panes: PaneBox[];
  /** The window's index and name (untrusted text). */
  window: { index: number; name: string };
  /**
   * Whether the terminal has the keyboard focus of the display, as the xterm reported to tmux
   * (focus events); undefined when no terminal client is attached.
   */
  focused: boolean | undefined;
  /** When the window last printed anything, in epoch seconds (tmux's window_activity). */
  activityAt: number;
}

// Fields are separated by a character no tmux name may carry unescaped in these formats; the
// untrusted ones (names) go last so a stray separator cannot shift the others.
const separator = '\u001f';
const paneFormat = ['#{pane_id}', '#{pane_left}', '#{pane_top}', '#{pane_width}', '#{pane_height}', '#{pane_active}', '#{cursor_x}', '#{cursor_y}', '#{pane_pid}', '#{pane_current_command}'].join(separator);
const windowFormat = ['#{window_width}', '#{window_height}', '#{status}', '#{status-position}', '#{window_activity}', '#{window_index}', '#{window_name}'].join(separator);
const clientFormat = ['#{client_control_mode}', '#{client_flags}'].join(separator);

/**
 * Reads the visible tmux window of session `main` and draws it as text the way tmux draws it
 * on the terminal: each pane's rows in its place, the borders between panes with box-drawing
 * characters, and the status line (tmux expands its own status format; the styles are dropped).
 * Four commands in one round trip, then one capture-pane per pane.
 */
export async function readTerminalView(terminal: TmuxControl, session = 'main'): Promise<TerminalView> {
  const target = `-t ${session}`;
  const [paneLines, windowLines, statusLines, clientLines] = await Promise.all([
    terminal.command(`list-panes ${target} -F '${paneFormat}'`),
    terminal.command(`display-message -p ${target} '${windowFormat}'`),
    terminal.command(`display-message -p ${target} '#{E:status-format[0]}'`),
    terminal.command(`list-clients ${target} -F '${clientFormat}'`),
  ]);
  const cursorOf = new Map<string, { x: number; y: number }>();
  const panes = paneLines.map((line) => {
    const fields = line.split(separator);
    const numbers = fields.slice(1, 9).map(Number);
    if (fields.length < 10 || numbers.some((value) => !Number.isInteger(value) || value < 0)) throw unreadable('pane', line);
    const [left, top, width, height, active, cursorX, cursorY, pid] = numbers as [number, number, number, number, number, number, number, number];
    const id = fields[0]!;
    if (!/^%\d+$/.test(id)) throw unreadable('pane', line);
    cursorOf.set(id, { x: cursorX, y: cursorY });
    return { id, left, top, width, height, active: active === 1, pid, command: fields.slice(9).join(separator).slice(0, 256) };
  });
  const windowFields = (windowLines[0] ?? '').split(separator);
  const [windowWidth, windowHeight] = windowFields.slice(0, 2).map(Number) as [number, number];
  if (!Number.isInteger(windowWidth) || !Number.isInteger(windowHeight) || windowWidth <= 0 || windowHeight <= 0 || windowWidth * windowHeight > 4_000_000) {
    throw unreadable('window', windowLines[0] ?? '');
  }
  const statusOn = windowFields[2] !== 'off' && windowFields[2] !== '0';
  const statusAtTop = windowFields[3] === 'top';
  const captures = await Promise.all(panes.map((pane) => terminal.command(`capture-pane -p -t ${pane.id}`)));

  const grid = new CellGrid(windowWidth, windowHeight);
  panes.forEach((pane, index) => {
    const rows = captures[index] ?? [];
    for (let row = 0; row < pane.height; row++) grid.write(pane.left, pane.top + row, rows[row] ?? '', pane.width);
    grid.markInside(pane);
  });
  grid.drawBorders();
  const windowRows = grid.rows();
  const status = statusOn ? renderStatusLine(statusLines[0] ?? '', windowWidth) : undefined;
  const rows = status === undefined ? windowRows : statusAtTop ? [status, ...windowRows] : [...windowRows, status];

  const activePane = panes.find((pane) => pane.active) ?? panes[0];
  const cursor = activePane ? cursorOf.get(activePane.id)! : { x: 0, y: 0 };
  const rowOffset = status !== undefined && statusAtTop ? 1 : 0;
  const terminalClients = clientLines.map((line) => line.split(separator)).filter((fields) => fields[0] !== '1');
  return {
    rows,
    cursor: { column: (activePane?.left ?? 0) + cursor.x, row: (activePane?.top ?? 0) + cursor.y + rowOffset },
    width: windowWidth,
    height: rows.length,
    panes,
    window: { index: Number(windowFields[5]), name: windowFields.slice(6).join(separator).slice(0, 256) },
    focused: terminalClients.length === 0 ? undefined : terminalClients.some((fields) => (fields[1] ?? '').split(',').includes('focused')),
    activityAt: Number(windowFields[4]) || 0,
  };
}

function unreadable(what: string, line: string): NexoraError {
  return new NexoraError('workstation-failed', `tmux reported an unreadable ${what}: ${JSON.stringify(line.slice(0, 200))}`);
}

/** A window-sized grid of cells, one string (a character, possibly wide) per cell. */
class CellGrid {
  private readonly cells: string[][];
  private readonly inside: boolean[][];

  constructor(
    private readonly width: number,
    private readonly height: number,
  ) {
    this.cells = Array.from({ length: height }, () => Array<string>(width).fill(' '));
    this.inside = Array.from({ length: height }, () => Array<boolean>(width).fill(false));
  }

  /** Writes text from (x, y), at most `limit` columns; a wide character takes two cells. */
  write(x: number, y: number, text: string, limit: number): void {
    const row = this.cells[y];
    if (!row) return;
    let column = 0;
    for (const character of text) {
      const cellWidth = characterWidth(character);
      if (cellWidth === 0) {
        // A combining mark joins the previous cell.
        if (column > 0 && row[x + column - 1] !== undefined) row[x + column - 1] += character;
        continue;
      }
      if (column + cellWidth > limit || x + column + cellWidth > this.width) break;
      row[x + column] = character;
      if (cellWidth === 2) row[x + column + 1] = '';
      column += cellWidth;
    }
  }

  markInside(pane: { left: number; top: number; width: number; height: number }): void {
    for (let y = pane.top; y < Math.min(pane.top + pane.height, this.height); y++) {
      for (let x = pane.left; x < Math.min(pane.left + pane.width, this.width); x++) this.inside[y]![x] = true;
    }
  }

  /** Every cell outside all panes is a border: its character joins the neighbouring border cells. */
  drawBorders(): void {
    const border = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < this.width && y < this.height && !this.inside[y]![x];
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        if (!border(x, y)) continue;
        const key = `${border(x, y - 1) ? 'u' : ''}${border(x, y + 1) ? 'd' : ''}${border(x - 1, y) ? 'l' : ''}${border(x + 1, y) ? 'r' : ''}`;
        this.cells[y]![x] = borderCharacters[key] ?? '│';
      }
    }
  }

  rows(): string[] {
    return this.cells.map((row) => row.join('').replace(/\s+$/, ''));
  }
}

const borderCharacters: Record<string, string> = {
  u: '│',
  d: '│',
  ud: '│',
  l: '─',
  r: '─',
  lr: '─',
  udlr: '┼',
  udr: '├',
  udl: '┤',
  dlr: '┬',
  ulr: '┴',
  dr: '┌',
  dl: '┐',
  ur: '└',
  ul: '┘',
};

/** Cells a character takes in a terminal: 2 for East Asian wide and emoji, 0 for combining marks. */
export function characterWidth(character: string): number {
  const code = character.codePointAt(0) ?? 0;
  if (/\p{Mn}|\p{Me}|\u200d/u.test(character)) return 0;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/**
 * Lays out tmux's expanded status format (`#{E:status-format[0]}`) as the status line shows
 * it: `#[…]` style blocks dropped, the list markers (`<` `>`, shown only when the window list
 * is cut) skipped, the part after `align=right` flush right.
 */
export function renderStatusLine(expanded: string, width: number): string {
  let left = '';
  let right = '';
  let align: 'left' | 'right' = 'left';
  let skipping = false;
  for (const part of expanded.split(/(#\[[^\]]*\])/)) {
    if (part.startsWith('#[') && part.endsWith(']')) {
      const attributes = part.slice(2, -1).split(/[ ,]+/);
      if (attributes.includes('align=right')) align = 'right';
      else if (attributes.some((attribute) => attribute.startsWith('align='))) align = 'left';
      if (attributes.includes('list=left-marker') || attributes.includes('list=right-marker')) skipping = true;
      else if (attributes.some((attribute) => attribute.startsWith('list=') || attribute === 'nolist')) skipping = false;
      continue;
    }
    if (skipping) continue;
    const text = part.replace(/##/g, '#');
    if (align === 'right') right += text;
    else left += text;
  }
  const leftWidth = textWidth(left);
  const rightWidth = textWidth(right);
  const line = leftWidth + rightWidth <= width ? left + ' '.repeat(width - leftWidth - rightWidth) + right : left;
  return line.replace(/\s+$/, '');
}

function textWidth(text: string): number {
  let width = 0;
  for (const character of text) width += characterWidth(character);
  return width;
}
