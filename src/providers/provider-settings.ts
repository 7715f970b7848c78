import type { OpenAiApi, ProviderKind } from './provider-kinds.js';
import type { RateLimits } from './token-bucket.js';

/** One provider as the config describes it (every field optional for the known ones). */
export interface ProviderSettings {
  /** Which client to use; defaults to the preset of the same name. */
  kind?: ProviderKind;
  baseUrl?: string;
  /** Environment variable holding the key, instead of the conventional one. */
  apiKeyEnv?: string;
  /** A key written in the config file (prefer the encrypted store: `nexora keys add`). */
  apiKey?: string;
  /** OpenAI only: Chat Completions (default) or the Responses API. */
  api?: OpenAiApi;
  headers?: Record<string, string>;
  rateLimits?: RateLimits;
}

/** Where keys come from before the environment: the encrypted key store. */
export interface ApiKeySource {
  getApiKey(provider: string, options?: { signal?: AbortSignal }): Promise<string | undefined>;
}
