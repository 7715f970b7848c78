export { RfbClient } from './rfb-client.js';
export type { RfbClientEvents, RfbClientState, RfbConnectOptions, RfbReconnectOptions, RfbSnapshot } from './rfb-client.js';
export type { RfbStats } from './connection.js';
export type { RfbWaitResult, WaitForQuietOptions, WaitForUpdateOptions } from './update-waiter.js';
export { DirtyRegion, boundingBox } from './dirty-region.js';
export type { RfbRect } from './dirty-region.js';
export { defaultRfbLimits } from './limits.js';
export type { RfbLimits } from './limits.js';
export type { RfbPixelEncoding } from './encodings.js';
export {
  chordForTextCharacter,
  keyEventsForChord,
  keyEventsForInput,
  keysymForCharacter,
  keysymForKeyName,
  parseKeyChord,
} from './keysyms.js';
export type { KeyChord, KeyEvent, KeyboardInput } from './keysyms.js';
export { vncAuthResponse } from './des.js';
