import { performance } from 'node:perf_hooks';

export interface Sample {
  p50: number;
  p95: number;
  mean: number;
  runs: number;
}

export function summarise(values: readonly number[]): Sample {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length, runs: sorted.length };
}

/** Runs `operation` `warmup` times unmeasured, then `runs` times measured (ms each). */
export async function measure(operation: () => unknown, options: { runs: number; warmup?: number }): Promise<Sample> {
  for (let index = 0; index < (options.warmup ?? 3); index++) await operation();
  const times: number[] = [];
  for (let index = 0; index < options.runs; index++) {
    const started = performance.now();
    await operation();
    times.push(performance.now() - started);
  }
  return summarise(times);
}

export function ms(value: number): string {
  return value < 1 ? `${value.toFixed(3)} ms` : value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

export interface PairedSample {
  a: Sample;
  b: Sample;
  /** p50 of (b − a) over the pairs: what b adds to a, with drift in the machine's load cancelled out. */
  differenceP50: number;
}

/**
 * Runs `a` and `b` alternately (`warmup` pairs unmeasured, then `runs` pairs), so that a change
 * in the machine's load during the run weighs on both alike. Which of the two goes first
 * alternates too: on a small host, whatever a call leaves running (a command's exit in a
 * container, the engine forwarding its output) slows the call right after it, and that must
 * not always be the same one.
 */
export async function measurePaired(a: () => unknown, b: () => unknown, options: { runs: number; warmup?: number }): Promise<PairedSample> {
  for (let index = 0; index < (options.warmup ?? 3); index++) {
    await a();
    await b();
  }
  const timesA: number[] = [];
  const timesB: number[] = [];
  const timed = async (operation: () => unknown, into: number[]): Promise<void> => {
    const started = performance.now();
    await operation();
    into.push(performance.now() - started);
  };
  for (let index = 0; index < options.runs; index++) {
    if (index % 2 === 0) {
      await timed(a, timesA);
      await timed(b, timesB);
    } else {
      await timed(b, timesB);
      await timed(a, timesA);
    }
  }
  return { a: summarise(timesA), b: summarise(timesB), differenceP50: summarise(timesB.map((time, index) => time - (timesA[index] ?? 0))).p50 };
}
