/**
 * An RFB 3.8 (VNC) client library: one persistent connection with a host-side framebuffer
 * mirror, key and pointer events, and X keysyms for text, key names and chords.
 *
 *   const client = await RfbClient.connect({ host, port, password, timeoutMs: 10_000 });
 *   const sentAt = performance.now();
 *   client.typeKeys(keyEventsForInput({ text: 'ls\n', keys: ['ctrl+l'] }));
 *   await client.waitForQuiet({ quietMs: 100, since: sentAt, timeoutMs: 2000 });
 *   const { width, height, data } = client.snapshot(); // RGBA
 *   client.close();
 *
 * It imports nothing of the app besides errors.
 */
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
export { vncAuthResponse, vncPasswordFile } from './des.js';
export { probeRfbServer } from './probe.js';
export type { ServerInit } from './handshake.js';
