import { performance } from 'node:perf_hooks';
import { describeError } from '../errors.js';
import type { EventStore, SessionId } from '../store/index.js';

export interface RecordStepOptions<T> {
  sessionId: SessionId;
  /** The event kind, e.g. `workstation-create`. */
  kind: string;
  run: () => Promise<T>;
  /** The event's payload from the step's result (default: empty). */
  describe?: (value: T) => Record<string, unknown>;
}

/**
 * Runs one step of a session's life and records it as an event with its duration; a failure
 * is recorded too (with its error) and rethrown, so the history shows where a start stopped.
 */
export async function recordStep<T>(events: EventStore, options: RecordStepOptions<T>): Promise<T> {
  const { sessionId, kind } = options;
  const begun = performance.now();
  try {
    const value = await options.run();
    await events.record({ sessionId, kind, payload: options.describe ? options.describe(value) : {}, durationMs: performance.now() - begun });
    return value;
  } catch (error) {
    await events.record({ sessionId, kind, payload: { error: describeError(error) }, durationMs: performance.now() - begun }).catch(() => undefined);
    throw error;
  }
}
