import type { Readable, Writable } from 'node:stream';
import { NexoraError } from '../../errors.js';

interface PendingCommand {
  resolve: (lines: string[]) => void;
  reject: (error: Error) => void;
}

/** What tmux reports about the active pane. */
export interface PaneState {
  /** The visible rows, exactly as tmux holds them (trailing blanks trimmed per row). */
  rows: string[];
  cursor: { column: number; row: number };
  width: number;
  height: number;
}

const beginLine = /^%begin (\d+) (\d+) (\d+)$/;
const endLine = /^%(end|error) (\d+) (\d+) (\d+)$/;

/**
 * A tmux control-mode client (`tmux -C attach`): commands go in as lines, replies come back
 * in %begin/%end blocks. One long-lived client answers capture-pane in about a millisecond,
 * where a fresh `docker exec tmux capture-pane` costs tens.
 */
export class TmuxControl {
  private readonly input: Writable;
  private readonly queue: PendingCommand[] = [];
  private buffer = '';
  private block: { number: string; lines: string[] } | undefined;
  private closedError: Error | undefined;
  private markAttached: () => void = () => undefined;
  private failAttach: (error: Error) => void = () => undefined;
  /** Commands sent before the client has attached fail with "no current client". */
  private readonly attached: Promise<void>;

  constructor(streams: { stdin: Writable; stdout: Readable }) {
    this.input = streams.stdin;
    this.attached = new Promise<void>((resolve, reject) => {
      this.markAttached = resolve;
      this.failAttach = reject;
    });
    this.attached.catch(() => undefined);
    streams.stdout.setEncoding('utf8');
    streams.stdout.on('data', (chunk: string) => this.receive(chunk));
    const onEnd = (error?: Error): void => {
      this.closedError = new NexoraError('workstation-failed', `the tmux control client closed${error ? `: ${error.message}` : ''}`, { cause: error });
      this.failAttach(this.closedError);
      for (const pending of this.queue.splice(0)) pending.reject(this.closedError);
    };
    streams.stdout.on('end', () => onEnd());
    streams.stdout.on('error', (error: Error) => onEnd(error));
    streams.stdin.on('error', (error: Error) => onEnd(error));
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Runs one tmux command and resolves with its output lines. */
  async command(text: string): Promise<string[]> {
    if (this.closedError) throw this.closedError;
    if (/[\r\n]/.test(text)) throw new NexoraError('invalid-argument', 'a tmux command must be one line');
    await this.attached;
    return new Promise<string[]>((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.input.write(`${text}\n`);
    });
  }

  /** The active pane's visible text, cursor and size, in one round trip. */
  async pane(target = ''): Promise<PaneState> {
    const targetFlag = target ? ` -t ${target}` : '';
    const [info, rows] = await Promise.all([
      this.command(`display-message -p${targetFlag} '#{cursor_x} #{cursor_y} #{pane_width} #{pane_height}'`),
      this.command(`capture-pane -p${targetFlag}`),
    ]);
    const [column, row, width, height] = (info[0] ?? '').split(' ').map(Number);
    if ([column, row, width, height].some((value) => value === undefined || !Number.isFinite(value))) {
      throw new NexoraError('workstation-failed', `tmux reported an unreadable pane state: ${JSON.stringify(info)}`);
    }
    const visible = rows.slice(0, height);
    while (visible.length < (height ?? 0)) visible.push('');
    return { rows: visible, cursor: { column: column!, row: row! }, width: width!, height: height! };
  }

  close(): void {
    this.input.end();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.handleLine(line);
    }
  }

  private handleLine(line: string): void {
    if (this.block) {
      const end = endLine.exec(line);
      if (end && end[3] === this.block.number) {
        const { lines } = this.block;
        const fromUs = end[4] === '1';
        this.block = undefined;
        if (!fromUs) return;
        const pending = this.queue.shift();
        if (!pending) return;
        if (end[1] === 'error') pending.reject(new NexoraError('workstation-failed', `tmux: ${lines.join(' ')}`));
        else pending.resolve(lines);
        return;
      }
      this.block.lines.push(line);
      return;
    }
    const begin = beginLine.exec(line);
    if (begin) {
      this.block = { number: begin[2]!, lines: [] };
      return;
    }
    // tmux tells a control client which session it is attached to once it is.
    if (line.startsWith('%session-changed ')) this.markAttached();
    // Any other notification (%output, %window-add, …) is not needed here.
  }
}
