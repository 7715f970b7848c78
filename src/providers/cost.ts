import type { ModelPrices } from './catalogue.js';

/** Tokens of one model call or a sum of them. */
export interface TokenUsage {
  /** All input tokens, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Of the input tokens, those read from the provider's prompt cache. */
  cachedInputTokens: number;
}

export interface Cost extends TokenUsage {
  /** US dollars. */
  usd: number;
}

export const zeroCost: Cost = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, usd: 0 };

/** What a call cost: cached input at the cached price, the rest of the input at full price. */
export function costOf(usage: TokenUsage, prices: ModelPrices): Cost {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  const usd = (uncached * prices.input + cached * prices.cachedInput + usage.outputTokens * prices.output) / 1_000_000;
  return { ...usage, cachedInputTokens: cached, usd };
}

export function addCosts(a: Cost, b: Cost): Cost {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    usd: a.usd + b.usd,
  };
}

/** "$0.0123" with enough digits to be useful for small amounts. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(usd < 1 ? 3 : 2)}`;
}
