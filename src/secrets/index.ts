export type { MasterKey, Keyring, MasterKeyPaths, Rotation } from './master-key.js';
export { MasterKeyStore, loadMasterKey, masterKeyId } from './master-key.js';
export type { Sealed } from './seal.js';
export { seal, open, sealText, openText, parseSealedText } from './seal.js';
export { maskSecret, createRedactor } from './mask.js';
export type { KeyDatabase, ProviderKeyInfo, RotationResult } from './provider-key-store.js';
export {
  ProviderKeyStore,
  holdSecretsLock,
  providerNameSchema,
  providerKeyContext,
  vncPasswordContext,
  sealVncPassword,
  openVncPassword,
} from './provider-key-store.js';
export type { ProviderKeyJson } from './provider-key-json.js';
export { providerKeyJson, providerKeyFromJson } from './provider-key-json.js';
