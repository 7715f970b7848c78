import type { ProviderKeyInfo } from './provider-key-store.js';

/** A stored key as the API and `keys list --json` show it: never the key, only its last four characters. */
export interface ProviderKeyJson {
  provider: string;
  key: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  expired: boolean;
  problem: string | null;
}

export function providerKeyJson(info: ProviderKeyInfo): ProviderKeyJson {
  return {
    provider: info.provider,
    key: info.masked,
    keyId: info.keyId,
    createdAt: info.createdAt.toISOString(),
    updatedAt: info.updatedAt.toISOString(),
    expiresAt: info.expiresAt?.toISOString() ?? null,
    expired: info.expired,
    problem: info.problem ?? null,
  };
}

export function providerKeyFromJson(json: ProviderKeyJson): ProviderKeyInfo {
  return {
    provider: json.provider,
    masked: json.key,
    keyId: json.keyId,
    createdAt: new Date(json.createdAt),
    updatedAt: new Date(json.updatedAt),
    expiresAt: json.expiresAt ? new Date(json.expiresAt) : null,
    expired: json.expired,
    ...(json.problem ? { problem: json.problem } : {}),
  };
}
