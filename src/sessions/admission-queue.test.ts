import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from './admission-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('AdmissionQueue', () => {
  it('never runs more than its limit and admits in arrival order, reporting places', async () => {
    const queue = new AdmissionQueue({ limit: 2 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, () => deferred());
    const places = new Map<number, number[]>();
    const tasks = gates.map((gate, index) =>
      queue.run(
        async () => {
          order.push(index);
          running++;
          peak = Math.max(peak, running);
          await gate.promise;
          running--;
        },
        { onQueued: (ahead) => places.set(index, [...(places.get(index) ?? []), ahead]) },
      ),
    );
    expect(queue.stats).toEqual({ limit: 2, running: 2, waiting: 4 });
    for (const gate of gates) {
      gate.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(tasks);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    // The last one waited behind three, then two, one, none.
    expect(places.get(5)).toEqual([3, 2, 1, 0]);
    expect(places.has(0)).toBe(false);
  });

  it('a request aborted while waiting leaves the queue and the ones behind move up', async () => {
    const queue = new AdmissionQueue({ limit: 1 });
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const controller = new AbortController();
    const cancelled = queue.run(() => Promise.resolve('never'), { signal: controller.signal });
    const places: number[] = [];
    const third = queue.run(() => Promise.resolve('third'), { onQueued: (ahead) => places.push(ahead) });
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'aborted' });
    expect(places).toEqual([1, 0]);
    gate.resolve();
    await first;
    await expect(third).resolves.toBe('third');
    expect(queue.stats.running).toBe(0);
  });
});
