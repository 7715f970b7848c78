/**
 * The kinds of provider Nexora can talk to, each with its AI SDK package, the environment
 * variable that conventionally holds its key, and whether its wire format can carry images
 * inside tool results.
 */
export const providerKinds = ['openai', 'anthropic', 'google', 'xai', 'mistral', 'groq', 'deepseek', 'openai-compatible'] as const;
export type ProviderKind = (typeof providerKinds)[number];

/**
 * OpenAI's two wire formats, both exercised end to end against the scripted model server.
 * Chat Completions is the default (every OpenAI-style proxy speaks it); the Responses API is
 * opt-in (`"api": "responses"`) and carries screenshots inside tool results.
 */
export type OpenAiApi = 'responses' | 'chat';

export interface ProviderPreset {
  kind: ProviderKind;
  /** Conventional environment variable for the API key; none for local servers. */
  apiKeyEnv?: string;
  baseUrl?: string;
  /** Local servers (Ollama, LM Studio) need no key. */
  keyOptional?: boolean;
  /** Where a user gets a key, for the "how to add a key" message. */
  keyUrl?: string;
}

/** Providers known by name. Any other name needs `kind` (usually openai-compatible) and a base URL. */
export const providerPresets: Record<string, ProviderPreset> = {
  openai: { kind: 'openai', apiKeyEnv: 'OPENAI_API_KEY', keyUrl: 'https://platform.openai.com/api-keys' },
  anthropic: { kind: 'anthropic', apiKeyEnv: 'ANTHROPIC_API_KEY', keyUrl: 'https://console.anthropic.com/settings/keys' },
  google: { kind: 'google', apiKeyEnv: 'GOOGLE_GENERATIVE_AI_API_KEY', keyUrl: 'https://aistudio.google.com/apikey' },
  xai: { kind: 'xai', apiKeyEnv: 'XAI_API_KEY', keyUrl: 'https://console.x.ai' },
  mistral: { kind: 'mistral', apiKeyEnv: 'MISTRAL_API_KEY', keyUrl: 'https://console.mistral.ai/api-keys' },
  groq: { kind: 'groq', apiKeyEnv: 'GROQ_API_KEY', keyUrl: 'https://console.groq.com/keys' },
  deepseek: { kind: 'deepseek', apiKeyEnv: 'DEEPSEEK_API_KEY', keyUrl: 'https://platform.deepseek.com/api_keys' },
  openrouter: { kind: 'openai-compatible', apiKeyEnv: 'OPENROUTER_API_KEY', baseUrl: 'https://openrouter.ai/api/v1', keyUrl: 'https://openrouter.ai/keys' },
  ollama: { kind: 'openai-compatible', baseUrl: 'http://localhost:11434/v1', keyOptional: true },
  lmstudio: { kind: 'openai-compatible', baseUrl: 'http://localhost:1234/v1', keyOptional: true },
};

/**
 * Whether the provider's wire format can put an image inside a tool result. Chat
 * Completions-style APIs cannot: there the screenshot must travel in a user message.
 */
export function wireCarriesToolResultImages(kind: ProviderKind, openAiApi: OpenAiApi | undefined): boolean {
  switch (kind) {
    case 'anthropic':
    case 'google':
      return true;
    case 'openai':
      return openAiApi === 'responses';
    default:
      return false;
  }
}
