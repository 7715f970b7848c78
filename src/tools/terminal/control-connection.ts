import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { NexoraError } from '../../errors.js';
import { LineReader } from '../line-reader.js';

/** The streams of one `tmux -C attach` client, and how to end it. */
export interface ControlStreams {
  stdin: Writable;
  stdout: Readable;
  /** Drops the client's connection (an attached exec's close); ends stdin when absent. */
  close?(): void;
}

export interface ControlLimits {
  /** The longest line accepted from tmux (characters). */
  maxLineLength: number;
  /** The most characters one reply may hold. */
  maxReplyLength: number;
}

interface Pending {
  token: string;
  resolve: (lines: string[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const guardLine = /^%(begin|end|error) (\d+) (\d+) (\d+)$/;
/** A notification tmux may write between two replies (%window-add, %session-changed, …). */
const notificationLine = /^%(?!begin |end |error )[a-z-]+( |$)/;

/**
 * One tmux control-mode client. A reply arrives as `%begin T N F`, its output lines, then
 * `%end T N F` or `%error T N F` — but the output is raw text: `capture-pane` returns
 * whatever the pane shows, so a program can print a line that looks exactly like the
 * closing guard. So every command is followed by `display-message -p <token>`, a random
 * token no process in the workstation knows, and a reply is complete only when that
 * token's own block has arrived: its output is what lies between the first `%begin` and
 * the last guard before the token's block, both with the same time/number/flags triple.
 */
export class ControlConnection {
  private readonly streams: ControlStreams;
  private readonly reader: LineReader;
  private readonly nonce = randomBytes(16).toString('hex');
  private sequence = 0;
  private readonly queue: Pending[] = [];
  /** Lines since the current reply's first `%begin`; undefined while none has started. */
  private collected: string[] | undefined;
  private collectedLength = 0;
  private failure: Error | undefined;
  private markAttached: () => void = () => undefined;
  private failAttach: (error: Error) => void = () => undefined;
  /** Commands sent before the client has attached fail with "no current client". */
  readonly attached: Promise<void>;

  constructor(
    streams: ControlStreams,
    private readonly limits: ControlLimits,
  ) {
    this.streams = streams;
    this.attached = new Promise<void>((resolve, reject) => {
      this.markAttached = resolve;
      this.failAttach = reject;
    });
    this.attached.catch(() => undefined);
    this.reader = new LineReader({
      maxLineLength: limits.maxLineLength,
      onLine: (line) => this.handleLine(line),
      onOverflow: (length) =>
        this.fail(new NexoraError('workstation-failed', `the tmux control client sent ${length} characters without a line end (the limit is ${limits.maxLineLength}); it was closed and the next call reopens it`)),
    });
    streams.stdout.setEncoding('utf8');
    streams.stdout.on('data', (chunk: string) => this.reader.push(chunk));
    streams.stdout.on('end', () => this.fail(closedError()));
    streams.stdout.on('error', (error: Error) => this.fail(closedError(error)));
    streams.stdin.on('error', (error: Error) => this.fail(closedError(error)));
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Characters held now for an unfinished line or reply, and the most held for a line. */
  get buffered(): { now: number; peakLine: number } {
    return { now: this.reader.length + this.collectedLength, peakLine: this.reader.peak };
  }

  /** Sends one command (already checked to be one non-empty line) and resolves with its output. */
  send(text: string, deadlineMs: number): Promise<string[]> {
    if (this.failure) return Promise.reject(this.failure);
    const token = `nexora-${this.nonce}-${++this.sequence}`;
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new NexoraError('timeout', `tmux did not answer within ${deadlineMs} ms (it may be stopped or overloaded); the control client was closed and the next call reopens it`));
      }, deadlineMs);
      this.queue.push({ token, resolve, reject, timer });
      this.streams.stdin.write(`${text}\ndisplay-message -p ${token}\n`);
    });
  }

  close(): void {
    this.fail(new NexoraError('workstation-failed', 'the tmux control client was closed'));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.failAttach(error);
    for (const pending of this.queue.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.reader.discard();
    this.collected = undefined;
    this.collectedLength = 0;
    this.streams.stdout.removeAllListeners('data');
    this.streams.stdout.on('data', () => undefined);
    if (this.streams.close) this.streams.close();
    else this.streams.stdin.end();
  }

  private handleLine(line: string): void {
    // tmux tells a control client which session it is attached to once it is.
    if (line.startsWith('%session-changed ')) this.markAttached();
    if (this.queue.length === 0) return;
    if (!this.collected) {
      // Before a reply starts, only notifications arrive; they are not needed here.
      if (!line.startsWith('%begin ')) return;
      this.collected = [];
    }
    this.collected.push(line);
    this.collectedLength += line.length + 1;
    if (this.collectedLength > this.limits.maxReplyLength) {
      this.fail(new NexoraError('workstation-failed', `a tmux reply grew past ${this.limits.maxReplyLength} characters; the control client was closed and the next call reopens it`));
      return;
    }
    this.completeIfGuarded();
  }

  /** Resolves the oldest command once its token's block closes what was collected. */
  private completeIfGuarded(): void {
    const lines = this.collected!;
    const count = lines.length;
    if (count < 4) return;
    const head = this.queue[0]!;
    const close = guardLine.exec(lines[count - 1]!);
    if (!close || close[1] !== 'end' || lines[count - 2] !== head.token) return;
    const triple = `${close[2]} ${close[3]} ${close[4]}`;
    if (lines[count - 3] !== `%begin ${triple}`) return;
    // The token's block is real. Before it (past any notifications) is the command's own guard.
    let endIndex = count - 4;
    while (endIndex >= 0 && notificationLine.test(lines[endIndex]!)) endIndex--;
    const end = endIndex >= 0 ? guardLine.exec(lines[endIndex]!) : null;
    this.queue.shift();
    clearTimeout(head.timer);
    this.collected = undefined;
    this.collectedLength = 0;
    if (!end || end[1] === 'begin') {
      head.reject(new NexoraError('workstation-failed', 'tmux sent a reply without its closing guard'));
      return;
    }
    const beginIndex = lines.indexOf(`%begin ${end[2]} ${end[3]} ${end[4]}`);
    const output = lines.slice(beginIndex + 1, endIndex);
    if (end[1] === 'error') head.reject(new NexoraError('workstation-failed', `tmux: ${output.join(' ')}`));
    else head.resolve(output);
  }
}

function closedError(cause?: Error): NexoraError {
  return new NexoraError('workstation-failed', `the tmux control client closed${cause ? `: ${cause.message}` : ''}`, cause ? { cause } : undefined);
}
