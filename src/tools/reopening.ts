import { NexoraError } from '../errors.js';
import { settleBefore } from '../settle-before.js';

/** A connection that can break: `closed` once it has, `close()` to end it. */
export interface Breakable {
  readonly closed: boolean;
  close(): void;
}

/**
 * One live connection of a channel into the workstation, opened on first use and opened again
 * when it broke (closed, stopped past a deadline, flooded). Concurrent callers share one open;
 * a failed open is not kept, so the next call tries again. After `close()` every call fails.
 */
export class Reopening<C extends Breakable> {
  private current: Promise<C> | undefined;
  private latest: C | undefined;
  private shut = false;
  /** How many connections have been opened (tests check that a broken one was replaced). */
  opened = 0;

  constructor(
    private readonly options: {
      /** Opens and readies a connection; calls `adopt` as soon as it exists, before it is ready. */
      open: (signal: AbortSignal | undefined, adopt: (connection: C) => void) => Promise<C>;
      /** The error message once the channel is closed, e.g. "the tmux control client was closed". */
      closedMessage: string;
    },
  ) {}

  get closed(): boolean {
    return this.shut;
  }

  /** The most recent connection, ready or not (for diagnostics). */
  get newest(): C | undefined {
    return this.latest;
  }

  /** The live connection, opening one if there is none or the last one broke. */
  async get(signal: AbortSignal | undefined): Promise<C> {
    if (this.shut) throw new NexoraError('workstation-failed', this.options.closedMessage);
    let opening = this.current;
    if (opening) {
      const connection = await untilAborted(opening.catch(() => undefined), signal);
      if (connection && !connection.closed) return connection;
      // Broken since (or its start failed): replace it, unless another caller already did.
      if (this.current === opening) this.current = undefined;
    }
    opening = this.current ??= this.options.open(signal, (connection) => {
      this.opened++;
      this.latest = connection;
      // Closed while it was opening: end it at once.
      if (this.shut) connection.close();
    });
    opening.catch(() => {
      if (this.current === opening) this.current = undefined;
    });
    // The open is shared: one caller's signal ends its own wait, not the open the others wait on.
    return untilAborted(opening, signal);
  }

  /** Ends the live connection and refuses further calls. */
  close(): void {
    this.shut = true;
    this.latest?.close();
  }
}

/** The promise's outcome, or an 'aborted' error as soon as the caller's signal fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return settleBefore(promise, signal, {
    reason: () => new NexoraError('aborted', 'Stopped waiting for the workstation channel to open: the call was cancelled.'),
  });
}
