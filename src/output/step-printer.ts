import { performance } from 'node:perf_hooks';
import { visibleControls } from '../visible-controls.js';
import { formatDuration } from './format.js';

/**
 * Prints progress for commands that take a moment: one line per finished step with its
 * time, and a spinner on a terminal while a step runs. Labels and details may quote a
 * workstation or an engine: their control characters are shown, never sent (the spinner's own
 * line clearing is the only escape sequence it writes).
 */
export class StepPrinter {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly interactive: boolean;
  private readonly started = performance.now();
  private spinner: NodeJS.Timeout | undefined;
  private current: { label: string; started: number } | undefined;

  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stderr) {
    this.stream = stream;
    this.interactive = Boolean(stream.isTTY) && !process.env.CI;
  }

  /** Runs one step, printing its label, its time and whether it worked. */
  async step<T>(label: string, run: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
    this.begin(label);
    try {
      const value = await run();
      this.end('ok', describe ? describe(value) : undefined);
      return value;
    } catch (error) {
      this.end('failed');
      throw error;
    }
  }

  /** Updates the running step's label (progress from a long operation). */
  progress(detail: string): void {
    if (!this.current) return;
    detail = visibleControls(detail, { oneLine: true });
    if (this.interactive) {
      this.render(`${this.current.label} — ${detail}`);
    } else {
      this.stream.write(`  … ${detail}\n`);
    }
  }

  info(line: string): void {
    this.clearLine();
    this.stream.write(`${visibleControls(line)}\n`);
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  private begin(label: string): void {
    this.current = { label: visibleControls(label, { oneLine: true }), started: performance.now() };
    if (this.interactive) {
      const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
      let frame = 0;
      this.render(this.current.label, frames[0]);
      this.spinner = setInterval(() => {
        frame = (frame + 1) % frames.length;
        if (this.current) this.render(this.current.label, frames[frame]);
      }, 80);
      this.spinner.unref();
    } else {
      this.stream.write(`• ${this.current.label}\n`);
    }
  }

  private end(outcome: 'ok' | 'failed', detail?: string): void {
    if (!this.current) return;
    if (this.spinner) clearInterval(this.spinner);
    this.spinner = undefined;
    const ms = performance.now() - this.current.started;
    const mark = outcome === 'ok' ? '✓' : '✗';
    this.clearLine();
    this.stream.write(`${mark} ${this.current.label} (${formatDuration(ms)})${detail ? `: ${visibleControls(detail, { oneLine: true })}` : ''}\n`);
    this.current = undefined;
  }

  private render(text: string, frame = '⠿'): void {
    const columns = this.stream.columns || 80;
    const line = `${frame} ${text}`.slice(0, columns - 1);
    this.stream.write(`\r\x1b[2K${line}`);
  }

  private clearLine(): void {
    if (this.interactive) this.stream.write('\r\x1b[2K');
  }
}
