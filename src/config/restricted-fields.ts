import type { ConfigFile } from './config-schema.js';

/**
 * Fields a workspace's nexora.json may not set unless the user trusted that exact file
 * (`nexora trust`): the repository may be someone else's, and the agent itself can write
 * /workspace/nexora.json for the next run.
 *
 * - `providers.*.kind`, `baseUrl`: choose where a request, and with it the API key, is sent.
 * - `providers.*.apiKey`, `apiKeyEnv`, `headers`: choose which credential is sent (apiKeyEnv
 *   could name AWS_SECRET_ACCESS_KEY) or add one.
 * - `models.*.prices`: the budget (`maxCostUsd`) is computed from them; zero prices disable it.
 * - `agent.approve`: the guardrail against injected instructions; "never" would switch it off.
 * - `viewer.recordTypedText`: would store what a person types during take-over (passwords).
 *
 * Every other field only shapes how the run behaves (which model of a provider, routing,
 * limits, screenshots), and `agent.maxSteps` and `agent.maxCostUsd` from an untrusted
 * workspace may only lower the user's values (see load-config.ts).
 */
const providerFields = ['kind', 'baseUrl', 'apiKey', 'apiKeyEnv', 'headers'] as const;

/** The restricted fields `config` sets, as dotted paths (`providers.anthropic.baseUrl`). */
export function restrictedFieldsIn(config: ConfigFile): string[] {
  const found: string[] = [];
  for (const [name, provider] of Object.entries(config.providers ?? {})) {
    for (const field of providerFields) if (provider[field] !== undefined) found.push(`providers.${name}.${field}`);
  }
  for (const [ref, model] of Object.entries(config.models ?? {})) {
    if (model.prices !== undefined) found.push(`models.${ref}.prices`);
  }
  if (config.agent?.approve !== undefined) found.push('agent.approve');
  if (config.viewer?.recordTypedText !== undefined) found.push('viewer.recordTypedText');
  return found;
}
