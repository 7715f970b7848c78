import type { LanguageModel } from 'ai';
import { NexoraError } from '../errors.js';
import { catalogueRefs, lookupModel, parseModelRef, type CatalogueOverride, type ModelInfo } from './catalogue.js';
import { createLanguageModel } from './create-model.js';
import { processLatency, type LatencyTracker } from './latency.js';
import { providerPresets, wireCarriesToolResultImages, type ProviderKind } from './provider-kinds.js';
import type { ApiKeySource, ProviderSettings } from './provider-settings.js';
import { orderCandidates, type RoutingStrategy, type TaskNeeds } from './router.js';
import { sharedLimiter, type TokenBucketLimiter } from './token-bucket.js';

/** A model ready to call: the AI SDK model, its catalogue entry and its provider's limiter. */
export interface ResolvedModel {
  info: ModelInfo;
  model: LanguageModel;
  limiter: TokenBucketLimiter | undefined;
  /** Images may go inside tool results (the model reads them and the wire format carries them). */
  imagesInToolResults: boolean;
  /** Where the key came from, for `nexora config show` and diagnostics. */
  keySource: 'store' | 'env' | 'config' | 'none';
}

export interface ProviderRegistryOptions {
  providers?: Record<string, ProviderSettings>;
  models?: Record<string, CatalogueOverride>;
  keys?: ApiKeySource;
  env?: NodeJS.ProcessEnv;
  latency?: LatencyTracker;
}

/**
 * Knows which providers are usable (a key, or a local server configured), turns model refs
 * into AI SDK models, and orders candidates for a routing strategy.
 */
export class ProviderRegistry {
  private readonly providers: Record<string, ProviderSettings>;
  private readonly models: Record<string, CatalogueOverride>;
  private readonly keys: ApiKeySource | undefined;
  private readonly env: NodeJS.ProcessEnv;
  readonly latency: LatencyTracker;

  constructor(options: ProviderRegistryOptions = {}) {
    this.providers = options.providers ?? {};
    this.models = options.models ?? {};
    this.keys = options.keys;
    this.env = options.env ?? process.env;
    this.latency = options.latency ?? processLatency;
  }

  /** The provider's settings merged over its preset; undefined for an unknown, unconfigured name. */
  settingsFor(provider: string): (ProviderSettings & { kind: ProviderKind; keyOptional: boolean }) | undefined {
    const preset = providerPresets[provider];
    const configured = this.providers[provider];
    const kind = configured?.kind ?? preset?.kind;
    if (!kind) return undefined;
    return {
      ...configured,
      kind,
      baseUrl: configured?.baseUrl ?? preset?.baseUrl,
      apiKeyEnv: configured?.apiKeyEnv ?? preset?.apiKeyEnv,
      // A custom OpenAI-compatible endpoint needs a key only if the config says where it is.
      keyOptional: preset ? (preset.keyOptional ?? false) : kind === 'openai-compatible' && configured?.apiKeyEnv === undefined && configured?.apiKey === undefined,
    };
  }

  /** The key for a provider: encrypted store, then environment, then config file. */
  async apiKeyFor(provider: string, signal?: AbortSignal): Promise<{ key: string | undefined; source: ResolvedModel['keySource'] }> {
    const fromStore = await this.keys?.getApiKey(provider, { signal });
    if (fromStore) return { key: fromStore, source: 'store' };
    const settings = this.settingsFor(provider);
    const envName = settings?.apiKeyEnv;
    const fromEnv = envName ? this.env[envName] : undefined;
    if (fromEnv) return { key: fromEnv, source: 'env' };
    if (settings?.apiKey) return { key: settings.apiKey, source: 'config' };
    return { key: undefined, source: 'none' };
  }

  /** A model by "provider/model"; throws with how to fix it when the provider is unusable. */
  async resolve(ref: string, signal?: AbortSignal): Promise<ResolvedModel> {
    const parsed = parseModelRef(ref);
    if (!parsed) {
      throw new NexoraError('invalid-argument', `"${ref}" is not a model: write provider/model, e.g. anthropic/claude-sonnet-4-5.`);
    }
    const settings = this.settingsFor(parsed.provider);
    if (!settings) {
      throw new NexoraError(
        'provider-unavailable',
        `Unknown provider "${parsed.provider}". Known: ${Object.keys(providerPresets).join(', ')}; for another OpenAI-compatible endpoint add providers.${parsed.provider} = { "kind": "openai-compatible", "baseUrl": "…" } to nexora.json.`,
      );
    }
    const { key, source } = await this.apiKeyFor(parsed.provider, signal);
    if (!key && !settings.keyOptional) throw new NexoraError('provider-unavailable', this.missingKeyMessage(parsed.provider));
    const info = lookupModel(ref, this.models, settings.kind);
    if (!info) throw new NexoraError('invalid-argument', `"${ref}" is not a model reference.`);
    return {
      info,
      model: createLanguageModel({ provider: parsed.provider, kind: settings.kind, settings, modelId: parsed.modelId, apiKey: key }),
      limiter: sharedLimiter(parsed.provider, settings.rateLimits),
      imagesInToolResults: info.capabilities.vision && info.capabilities.imagesInToolResults && wireCarriesToolResultImages(settings.kind, settings.api),
      keySource: source,
    };
  }

  /** Catalogue and configured models whose provider is usable now. */
  async availableModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const usable = new Map<string, boolean>();
    const result: ModelInfo[] = [];
    for (const ref of catalogueRefs(this.models)) {
      const parsed = parseModelRef(ref);
      if (!parsed) continue;
      let ok = usable.get(parsed.provider);
      if (ok === undefined) {
        const settings = this.settingsFor(parsed.provider);
        // Local servers count only when configured: their presence is not knowable offline.
        const keyOptionalConfigured = settings?.keyOptional === true && this.providers[parsed.provider] !== undefined;
        ok = settings !== undefined && (keyOptionalConfigured || (await this.apiKeyFor(parsed.provider, signal)).key !== undefined);
        usable.set(parsed.provider, ok);
      }
      const info = ok ? lookupModel(ref, this.models, this.settingsFor(parsed.provider)?.kind) : undefined;
      if (info) result.push(info);
    }
    return result;
  }

  /**
   * The models to try in order for a strategy. Throws `provider-unavailable`, saying how to
   * add a key, when nothing is usable.
   */
  async candidates(options: {
    strategy: RoutingStrategy;
    model?: string;
    fallbacks?: string[];
    needs: TaskNeeds;
    signal?: AbortSignal;
  }): Promise<ResolvedModel[]> {
    const { strategy, needs, signal } = options;
    if (strategy === 'explicit' && options.model === undefined) {
      throw new NexoraError('invalid-argument', 'The explicit routing strategy needs a model: pass --model provider/model or set "model" in nexora.json.');
    }
    const available = await this.availableModels(signal);
    // Models named explicitly are honoured even if the catalogue does not list them. The
    // main model must be usable; an unusable fallback is skipped.
    if (options.model !== undefined && !available.some((model) => model.ref === options.model)) {
      available.unshift((await this.resolve(options.model, signal)).info);
    }
    for (const ref of options.fallbacks ?? []) {
      if (available.some((model) => model.ref === ref)) continue;
      const fallback = await this.resolve(ref, signal).catch(() => undefined);
      if (fallback) available.push(fallback.info);
    }
    const ordered = orderCandidates({ strategy, available, needs, explicit: options.model, fallbacks: options.fallbacks, latency: this.latency });
    if (ordered.length === 0) {
      throw new NexoraError('provider-unavailable', available.length === 0 ? this.noProviderMessage() : `No available model has what the task needs (${describeNeeds(needs)}).`);
    }
    return Promise.all(ordered.map((info) => this.resolve(info.ref, signal)));
  }

  /** How to add a key for one provider. */
  missingKeyMessage(provider: string): string {
    const settings = this.settingsFor(provider);
    const envName = settings?.apiKeyEnv ?? `${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;
    const where = providerPresets[provider]?.keyUrl;
    return `No API key for ${provider}: run \`nexora keys add ${provider}\` (stored encrypted) or export ${envName}=…${where ? ` (get one at ${where})` : ''}.`;
  }

  /** Said when no provider at all is usable. */
  noProviderMessage(): string {
    return [
      'No model provider is usable: no API key was found in the encrypted store or the environment.',
      'Add one, for example:',
      '  nexora keys add anthropic        (stored encrypted in ~/.nexora/secrets)',
      '  export ANTHROPIC_API_KEY=sk-ant-…   or OPENAI_API_KEY, GOOGLE_GENERATIVE_AI_API_KEY, XAI_API_KEY, MISTRAL_API_KEY, GROQ_API_KEY, DEEPSEEK_API_KEY',
      'or point at a local OpenAI-compatible server in nexora.json:',
      '  { "model": "ollama/qwen2.5-coder", "providers": { "ollama": { "baseUrl": "http://localhost:11434/v1" } } }',
    ].join('\n');
  }
}

function describeNeeds(needs: TaskNeeds): string {
  return [needs.tools ? 'tool calls' : '', needs.vision ? 'vision' : ''].filter(Boolean).join(', ') || 'nothing';
}
