import { defaultImageSize, openAiPatchLimit, type ImageSizeLimit } from './image-size.js';
import { providerPresets, type ProviderKind } from './provider-kinds.js';

/**
 * What each model can do and what it costs. Prices are US dollars per million tokens as the
 * providers published them; `models` in the config overrides any field of any entry and adds
 * models the catalogue does not know.
 */
export interface ModelCapabilities {
  tools: boolean;
  vision: boolean;
  /** The model reads images returned inside tool results (else they travel in a user message). */
  imagesInToolResults: boolean;
  contextTokens: number;
}

export interface ModelPrices {
  /** Per million uncached input tokens. */
  input: number;
  output: number;
  /** Per million input tokens read from the provider's prompt cache. */
  cachedInput: number;
}

export interface CatalogueEntry {
  capabilities: ModelCapabilities;
  prices: ModelPrices;
  /** The largest screenshot this model should get; absent: its provider's default (image-size.ts). */
  imageSize?: ImageSizeLimit;
}

export interface ModelInfo extends CatalogueEntry {
  /** "provider/model", e.g. "anthropic/claude-sonnet-4-5". */
  ref: string;
  provider: string;
  modelId: string;
}

const vision = (contextTokens: number, imagesInToolResults = true): ModelCapabilities => ({
  tools: true,
  vision: true,
  imagesInToolResults,
  contextTokens,
});
const textOnly = (contextTokens: number): ModelCapabilities => ({ tools: true, vision: false, imagesInToolResults: false, contextTokens });
const prices = (input: number, output: number, cachedInput: number): ModelPrices => ({ input, output, cachedInput });

/** Built-in entries, keyed "provider/model". */
export const builtInCatalogue: Record<string, CatalogueEntry> = {
  'openai/gpt-5': { capabilities: vision(400_000), prices: prices(1.25, 10, 0.125) },
  'openai/gpt-5-mini': { capabilities: vision(400_000), prices: prices(0.25, 2, 0.025), imageSize: openAiPatchLimit },
  'openai/gpt-4.1': { capabilities: vision(1_047_576), prices: prices(2, 8, 0.5) },
  'openai/gpt-4.1-mini': { capabilities: vision(1_047_576), prices: prices(0.4, 1.6, 0.1), imageSize: openAiPatchLimit },
  'openai/gpt-4o': { capabilities: vision(128_000), prices: prices(2.5, 10, 1.25) },
  'anthropic/claude-opus-4-1': { capabilities: vision(200_000), prices: prices(15, 75, 1.5) },
  'anthropic/claude-sonnet-4-5': { capabilities: vision(200_000), prices: prices(3, 15, 0.3) },
  'anthropic/claude-haiku-4-5': { capabilities: vision(200_000), prices: prices(1, 5, 0.1) },
  'google/gemini-2.5-pro': { capabilities: vision(1_048_576), prices: prices(1.25, 10, 0.31) },
  'google/gemini-2.5-flash': { capabilities: vision(1_048_576), prices: prices(0.3, 2.5, 0.075) },
  'xai/grok-4': { capabilities: vision(256_000, false), prices: prices(3, 15, 0.75) },
  'xai/grok-3-mini': { capabilities: textOnly(131_072), prices: prices(0.3, 0.5, 0.075) },
  'mistral/mistral-large-latest': { capabilities: textOnly(131_072), prices: prices(2, 6, 2) },
  'mistral/mistral-medium-latest': { capabilities: vision(131_072, false), prices: prices(0.4, 2, 0.4) },
  'groq/llama-3.3-70b-versatile': { capabilities: textOnly(131_072), prices: prices(0.59, 0.79, 0.59) },
  'groq/meta-llama/llama-4-scout-17b-16e-instruct': { capabilities: vision(131_072, false), prices: prices(0.11, 0.34, 0.11) },
  'deepseek/deepseek-chat': { capabilities: textOnly(128_000), prices: prices(0.28, 0.42, 0.028) },
  'deepseek/deepseek-reasoner': { capabilities: textOnly(128_000), prices: prices(0.28, 0.42, 0.028) },
};

/** What an unknown model (a local one, say) is assumed to be: tools, no vision, free. */
export const unknownModelEntry: CatalogueEntry = {
  capabilities: { tools: true, vision: false, imagesInToolResults: false, contextTokens: 32_768 },
  prices: prices(0, 0, 0),
};

/** A partial override from the config. */
export interface CatalogueOverride {
  capabilities?: Partial<ModelCapabilities>;
  prices?: Partial<ModelPrices>;
  imageSize?: ImageSizeLimit;
}

/** Splits "provider/model" at the first slash (model ids may contain slashes). */
export function parseModelRef(ref: string): { provider: string; modelId: string } | undefined {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) return undefined;
  return { provider: ref.slice(0, slash), modelId: ref.slice(slash + 1) };
}

/**
 * The catalogue entry for a model with the config's overrides applied. `kind` is the
 * provider's kind when the config gives one (a custom name for an OpenAI endpoint, say): it
 * chooses the default screenshot size when neither the config nor the catalogue does.
 */
export function lookupModel(ref: string, overrides: Record<string, CatalogueOverride> = {}, kind?: ProviderKind): ModelInfo | undefined {
  const parsed = parseModelRef(ref);
  if (!parsed) return undefined;
  const base = builtInCatalogue[ref] ?? unknownModelEntry;
  const override = overrides[ref] ?? {};
  const imageSize = override.imageSize ?? base.imageSize ?? defaultImageSize(kind ?? providerPresets[parsed.provider]?.kind);
  return {
    ref,
    ...parsed,
    capabilities: { ...base.capabilities, ...override.capabilities },
    prices: { ...base.prices, ...override.prices },
    ...(imageSize ? { imageSize } : {}),
  };
}

/** Every model the catalogue and the config know. */
export function catalogueRefs(overrides: Record<string, CatalogueOverride> = {}): string[] {
  return [...new Set([...Object.keys(builtInCatalogue), ...Object.keys(overrides)])];
}
