export interface LineReaderOptions {
  /** The longest line kept, in UTF-16 code units; past it `onOverflow` is called once. */
  maxLineLength: number;
  onLine: (line: string) => void;
  /** The channel is no longer believable: the reader stops and keeps nothing more. */
  onOverflow: (length: number) => void;
}

/**
 * Splits a text stream that a workstation process writes into lines, never holding more
 * than one bounded line: a process that writes forever without a newline costs the host
 * at most `maxLineLength` characters plus one chunk, then the channel is given up.
 */
export class LineReader {
  private parts: string[] = [];
  private partLength = 0;
  private stopped = false;
  /** The most characters ever held while waiting for a line end. */
  peak = 0;

  constructor(private readonly options: LineReaderOptions) {}

  /** Characters held now while waiting for a line end. */
  get length(): number {
    return this.partLength;
  }

  push(chunk: string): void {
    let start = 0;
    while (!this.stopped) {
      const newline = chunk.indexOf('\n', start);
      if (newline < 0) {
        const rest = chunk.length - start;
        if (rest === 0) return;
        if (this.partLength + rest > this.options.maxLineLength) {
          this.overflow(this.partLength + rest);
          return;
        }
        this.parts.push(start === 0 ? chunk : chunk.slice(start));
        this.partLength += rest;
        this.peak = Math.max(this.peak, this.partLength);
        return;
      }
      const length = this.partLength + newline - start;
      if (length > this.options.maxLineLength) {
        this.overflow(length);
        return;
      }
      this.peak = Math.max(this.peak, length);
      const line = this.parts.length === 0 ? chunk.slice(start, newline) : this.parts.join('') + chunk.slice(start, newline);
      this.parts = [];
      this.partLength = 0;
      start = newline + 1;
      this.options.onLine(line);
    }
  }

  /** Drops what is held and ignores everything after. */
  discard(): void {
    this.stopped = true;
    this.parts = [];
    this.partLength = 0;
  }

  private overflow(length: number): void {
    this.discard();
    this.options.onOverflow(length);
  }
}
