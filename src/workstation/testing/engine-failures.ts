import { expect, it, vi } from 'vitest';
import { NexoraError } from '../../errors.js';
import { rejection, type SilentEngine } from './silent-engine.js';

/**
 * Far above the 300 ms the tests ask for, far below the default deadlines (30 s and more): a
 * call that ignored its options fails the test; a loaded machine does not.
 */
export const BOUND_MS = 10_000;

export type EngineCall = (options: { signal?: AbortSignal; timeoutMs?: number }) => Promise<unknown>;

/** The engine saw every request it held closed again by the client: nothing was left waiting. */
export async function expectNothingHeld(engine: SilentEngine): Promise<void> {
  await vi.waitFor(() => expect(engine.held).toEqual([]), { timeout: BOUND_MS, interval: 20 });
}

/** Starts a call with a signal, aborts it once its request reached the engine, and says how it ended. */
export async function abortOnceReceived(engine: SilentEngine, call: (signal: AbortSignal) => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const controller = new AbortController();
  const before = engine.received.length;
  const pending = rejection(call(controller.signal));
  // Aborted only once the request reached the engine: the wait itself is cancelled.
  await vi.waitFor(() => expect(engine.received.length).toBeGreaterThan(before), { timeout: BOUND_MS, interval: 10 });
  controller.abort();
  return pending;
}

/**
 * Three tests of one call against a silent engine (read when each test runs): at its deadline,
 * on its signal mid-wait, and with a signal aborted before it; each must leave no request open.
 */
export function playFailures(name: string, call: EngineCall, engine: () => SilentEngine): void {
  it(`${name} fails at its deadline with a timeout error, and closes its requests`, async () => {
    const silent = engine();
    const before = silent.received.length;
    const { error, ms } = await rejection(call({ timeoutMs: 300 }));
    expect(NexoraError.is(error, 'timeout'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/did not answer in time/);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(silent.received.length).toBeGreaterThan(before);
    await expectNothingHeld(silent);
  });

  it(`${name} stops waiting when the caller's signal fires, and closes its requests`, async () => {
    const silent = engine();
    const { error, ms } = await abortOnceReceived(silent, (signal) => call({ signal }));
    expect(NexoraError.is(error), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
    await expectNothingHeld(silent);
  });

  it(`${name} with a signal already aborted rejects at once`, async () => {
    const { error, ms } = await rejection(call({ signal: AbortSignal.abort() }));
    expect(NexoraError.is(error), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
    await expectNothingHeld(engine());
  });
}
