import type { ModelInfo } from './catalogue.js';
import type { LatencyTracker } from './latency.js';

export const routingStrategies = ['explicit', 'cheapest', 'fastest'] as const;
export type RoutingStrategy = (typeof routingStrategies)[number];

/** What the task needs of a model. */
export interface TaskNeeds {
  tools: boolean;
  vision: boolean;
}

/** A typical agent step: a large, mostly cached prompt and a short answer. */
function typicalStepUsd(model: ModelInfo): number {
  const { input, output, cachedInput } = model.prices;
  return (4000 * input + 4000 * cachedInput + 300 * output) / 1_000_000;
}

export function meetsNeeds(model: ModelInfo, needs: TaskNeeds): boolean {
  return (!needs.tools || model.capabilities.tools) && (!needs.vision || model.capabilities.vision);
}

/**
 * Orders the models to try: the first is used, the rest are fallbacks in order.
 * `explicit` keeps the named model first and then the configured fallbacks; `cheapest` and
 * `fastest` rank every available model that meets the needs (fastest by measured latency,
 * unmeasured ones after, cheapest first among equals).
 */
export function orderCandidates(options: {
  strategy: RoutingStrategy;
  available: ModelInfo[];
  needs: TaskNeeds;
  explicit?: string;
  fallbacks?: string[];
  latency?: LatencyTracker;
}): ModelInfo[] {
  const { strategy, available, needs } = options;
  const byRef = new Map(available.map((model) => [model.ref, model]));
  const capable = available.filter((model) => meetsNeeds(model, needs));
  const fallbacks = (options.fallbacks ?? []).map((ref) => byRef.get(ref)).filter((model): model is ModelInfo => model !== undefined);
  let ordered: ModelInfo[];
  if (strategy === 'explicit') {
    const first = options.explicit === undefined ? undefined : byRef.get(options.explicit);
    ordered = [...(first ? [first] : []), ...fallbacks];
  } else if (strategy === 'cheapest') {
    ordered = [...capable].sort((a, b) => typicalStepUsd(a) - typicalStepUsd(b) || a.ref.localeCompare(b.ref));
  } else {
    const latency = (model: ModelInfo): number => options.latency?.get(model.ref) ?? Number.POSITIVE_INFINITY;
    ordered = [...capable].sort((a, b) => latency(a) - latency(b) || typicalStepUsd(a) - typicalStepUsd(b));
  }
  return [...new Map(ordered.map((model) => [model.ref, model])).values()];
}
