/**
 * The Nexora SDK (`import { Nexora } from 'nexora'`). It talks to the Nexora server over its
 * API; it loads nothing of the store, Docker or the agent.
 */
export { Nexora, Runs, Sessions, type ConnectOptions, type SessionStartOptions } from './nexora.js';
export { Session, type BrowserAction, type ExecuteOptions, type KeyboardOptions, type MouseOptions, type ScreenOptions } from './session.js';
export { Run, type RunEnd, type RunStartOptions } from './runs.js';
export type { CallOptions } from './call-options.js';
export type {
  BrowserResult,
  ExecuteResult,
  KeyboardResult,
  MouseResult,
  RunEvent,
  Screen,
  ScreenChanges,
  SessionEvent,
  SessionInfo,
  SessionStatus,
  WaitOutcome,
} from './api-types.js';
export { NexoraError, type NexoraErrorCode } from '../errors.js';
export type { ServerAddress } from '../client/nexora-client.js';
