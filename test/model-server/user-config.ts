import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScriptedModelServer } from './server.js';

export interface ScriptedConfigOptions {
  /** The model's capabilities in the catalogue entry (default: vision). */
  capabilities?: Record<string, unknown>;
  /** Its prices (default: none, so budgets do not apply). */
  prices?: Record<string, number>;
  /** More of the user's config (agent settings, routing…). */
  extra?: Record<string, unknown>;
}

/**
 * Writes the user's own config (`<home>/config.json`) naming a scripted model server as the
 * `scripted/m` model, its key read from SCRIPTED_API_KEY. Endpoints belong in the user's
 * config: a workspace nexora.json may not set them untrusted.
 */
export function writeScriptedConfig(home: string, server: Pick<ScriptedModelServer, 'anthropicBaseUrl'>, options: ScriptedConfigOptions = {}): void {
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({
      model: 'scripted/m',
      providers: { scripted: { kind: 'anthropic', baseUrl: server.anthropicBaseUrl, apiKeyEnv: 'SCRIPTED_API_KEY' } },
      models: { 'scripted/m': { capabilities: options.capabilities ?? { vision: true }, ...(options.prices ? { prices: options.prices } : {}) } },
      ...options.extra,
    }),
  );
}
