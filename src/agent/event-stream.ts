import type { AgentEvent } from './events.js';

/**
 * A run's events for any number of consumers: listeners called synchronously in order, or
 * async iteration (which buffers, so a slow consumer misses nothing).
 */
export class AgentEventStream implements AsyncIterable<AgentEvent> {
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private readonly history: AgentEvent[] = [];
  private readonly waiting = new Set<() => void>();
  private closed = false;

  /** Calls `listener` for every later event; returns the unsubscribe function. */
  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: AgentEvent): void {
    if (this.closed) return;
    this.history.push(event);
    for (const listener of this.listeners) listener(event);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Every event so far. */
  get events(): readonly AgentEvent[] {
    return this.history;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    let index = 0;
    for (;;) {
      while (index < this.history.length) yield this.history[index++] as AgentEvent;
      if (this.closed) return;
      await new Promise<void>((resolve) => this.waiting.add(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
  }
}
