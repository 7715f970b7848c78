import { NexoraError } from '../errors.js';

/**
 * Who may send input to a session's display right now: `agent` means the model-driven doors
 * (agent runs, the API, the SDK, MCP) — every caller but a person who took control.
 */
export type InputHolder = 'agent' | 'person';

/** The person holding control, as a refused caller is told. */
export interface ControlHolder {
  /** Who took it: "a person in the web view", "an API client". */
  by: string;
  since: Date;
}

export interface EnterOptions {
  /** What is waiting, for the refusal: "keyboard", "execute". */
  what: string;
  /** Longest wait for the person to hand back, then `control-held` (default 5 s). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** How long a call without a timeout of its own waits at a held gate. */
export const defaultGateWaitMs = 5000;

/**
 * The take-over switch of one session, in memory in the server that owns the session: while a
 * person holds the display (the web view's "Take control", or `POST /v1/sessions/:id/control`),
 * every other door's keyboard, mouse, execute and browser actions wait at the gate up to their
 * own timeout and then fail with `control-held`, naming the holder; "Hand back" lets waiting
 * calls through. Screen reads are never held up. Taking is synchronous: once `take()` returns,
 * no call enters, so nothing typed after the take was acknowledged reaches the display.
 */
export class InputGate {
  private current: ControlHolder | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(holder: InputHolder) => void>();

  get holder(): InputHolder {
    return this.current ? 'person' : 'agent';
  }

  /** The person holding control, when one does. */
  get heldBy(): ControlHolder | undefined {
    return this.current;
  }

  /** How many calls are held at the gate now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** A person takes the display; returns false when one already had it. */
  take(by = 'a person in the web view'): boolean {
    if (this.current) return false;
    this.current = { by, since: new Date() };
    this.notify();
    return true;
  }

  /** The person hands back; returns false when no one held it. */
  handBack(): boolean {
    if (!this.current) return false;
    this.current = undefined;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    this.notify();
    return true;
  }

  /** Calls `listener` on every change of holder; returns the unsubscribe function. */
  subscribe(listener: (holder: InputHolder) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves when no person holds the display (at once, in the same turn, when none does);
   * rejects with `control-held` after `timeoutMs`, or `aborted` when `signal` fires.
   */
  enter(options: EnterOptions): Promise<void> {
    if (!this.current) return Promise.resolve();
    if (options.signal?.aborted) return Promise.reject(interrupted());
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      const finish = (error?: NexoraError): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(done);
        if (error) reject(error);
        else resolve();
      };
      const done = (): void => finish();
      const onAbort = (): void => finish(interrupted());
      const timer = setTimeout(() => finish(this.held(options.what, Date.now() - startedAt)), options.timeoutMs ?? defaultGateWaitMs);
      this.waiters.add(done);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private held(what: string, waitedMs: number): NexoraError {
    const holder = this.current;
    const who = holder ? `${holder.by} (since ${holder.since.toISOString().slice(11, 19)} UTC)` : 'a person';
    return new NexoraError(
      'control-held',
      `${who} holds control of the display: this ${what} call waited ${Math.round(waitedMs)} ms and was not delivered. It goes through once they hand back; screen() still works meanwhile.`,
    );
  }

  private notify(): void {
    for (const listener of this.listeners) listener(this.holder);
  }
}

function interrupted(): NexoraError {
  return new NexoraError('aborted', 'Interrupted while a person had control of the display.');
}
