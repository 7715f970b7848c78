import { createAnthropic } from '@ai-sdk/anthropic';
import { createDeepSeek } from '@ai-sdk/deepseek';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createGroq } from '@ai-sdk/groq';
import { createMistral } from '@ai-sdk/mistral';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createXai } from '@ai-sdk/xai';
import type { LanguageModel } from 'ai';
import { NexoraError } from '../errors.js';
import type { ProviderKind } from './provider-kinds.js';
import type { ProviderSettings } from './provider-settings.js';

/** An AI SDK model for one provider and model id. */
export function createLanguageModel(options: {
  provider: string;
  kind: ProviderKind;
  settings: ProviderSettings;
  modelId: string;
  apiKey: string | undefined;
}): LanguageModel {
  const { provider, kind, settings, modelId, apiKey } = options;
  const common = { apiKey, baseURL: settings.baseUrl, headers: settings.headers };
  switch (kind) {
    case 'openai': {
      const client = createOpenAI(common);
      return settings.api === 'responses' ? client.responses(modelId) : client.chat(modelId);
    }
    case 'anthropic':
      return createAnthropic(common)(modelId);
    case 'google':
      return createGoogleGenerativeAI(common)(modelId);
    case 'xai':
      return createXai(common)(modelId);
    case 'mistral':
      return createMistral(common)(modelId);
    case 'groq':
      return createGroq(common)(modelId);
    case 'deepseek':
      return createDeepSeek(common)(modelId);
    case 'openai-compatible': {
      if (!settings.baseUrl) {
        throw new NexoraError(
          'invalid-config',
          `Provider "${provider}" is OpenAI-compatible but has no base URL: set providers.${provider}.baseUrl in nexora.json (e.g. "http://localhost:11434/v1" for Ollama).`,
        );
      }
      return createOpenAICompatible({
        name: provider,
        baseURL: settings.baseUrl,
        apiKey,
        headers: settings.headers,
        includeUsage: true,
      })(modelId);
    }
  }
}
