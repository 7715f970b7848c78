import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { nexoraPaths } from '../paths.js';
import type { LatencyTracker } from '../providers/latency.js';

const latencyFile = (): string => join(nexoraPaths().home, 'latency.json');
const latencySchema = z.record(z.string(), z.number().nonnegative());

/** Measured model latencies survive the process, so --strategy fastest has data to go on. */
export async function loadLatency(latency: LatencyTracker): Promise<void> {
  const text = await readFile(latencyFile(), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  try {
    const parsed = latencySchema.safeParse(JSON.parse(text));
    if (parsed.success) latency.restore(parsed.data);
  } catch {
    // A damaged file only loses measurements; the next run rewrites it.
  }
}

export async function saveLatency(latency: LatencyTracker): Promise<void> {
  await writeFile(latencyFile(), `${JSON.stringify(latency.snapshot(), null, 2)}\n`).catch(() => undefined);
}
