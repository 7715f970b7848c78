import { z } from 'zod';
import { addCosts, zeroCost, type Cost } from '../providers/cost.js';

/** The `cost` of a step-end or run-end event payload. */
export const costPayloadSchema = z.looseObject({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedInputTokens: z.number(),
  usd: z.number(),
});

const runEndPayload = z.looseObject({
  outcome: z.string(),
  cost: costPayloadSchema,
});

/** A session's totals over all its runs, read back from its `run-end` events. */
export interface SessionTotals {
  runs: number;
  cost: Cost;
}

export function sessionTotals(events: readonly { kind: string; payload: unknown }[]): SessionTotals {
  let cost = zeroCost;
  let runs = 0;
  for (const event of events) {
    if (event.kind !== 'run-end') continue;
    const parsed = runEndPayload.safeParse(event.payload);
    if (!parsed.success) continue;
    runs++;
    const { inputTokens, outputTokens, cachedInputTokens, usd } = parsed.data.cost;
    cost = addCosts(cost, { inputTokens, outputTokens, cachedInputTokens, usd });
  }
  return { runs, cost };
}
