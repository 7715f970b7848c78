import type { EffectiveConfig } from './config-schema.js';

/** A secret as Nexora shows it: its last four characters only. */
export function maskValue(secret: string): string {
  return secret.length <= 8 ? '…' : `…${secret.slice(-4)}`;
}

const secretHeader = /authorization|api[-_]?key|token|secret|cookie/i;

/** The config with API keys and credential-bearing headers masked, for printing. */
export function maskConfig(config: EffectiveConfig): EffectiveConfig {
  const providers = Object.fromEntries(
    Object.entries(config.providers).map(([name, settings]) => [
      name,
      {
        ...settings,
        ...(settings.apiKey !== undefined ? { apiKey: maskValue(settings.apiKey) } : {}),
        ...(settings.headers !== undefined
          ? { headers: Object.fromEntries(Object.entries(settings.headers).map(([key, value]) => [key, secretHeader.test(key) ? maskValue(value) : value])) }
          : {}),
      },
    ]),
  );
  return { ...config, providers };
}
