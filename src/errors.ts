/**
 * Every error Nexora raises on purpose. The code says what kind of failure it is; the
 * message says what to do about it.
 */
export type NexoraErrorCode =
  | 'invalid-argument'
  | 'invalid-config'
  | 'untrusted-config'
  | 'unsafe-workspace'
  | 'filesystem-failed'
  | 'already-exists'
  | 'docker-unavailable'
  | 'docker-failed'
  | 'image-missing'
  | 'image-build-failed'
  | 'image-in-use'
  | 'workstation-not-ready'
  | 'workstation-failed'
  | 'database-failed'
  | 'database-locked'
  | 'migration-failed'
  | 'ports-exhausted'
  | 'session-not-found'
  | 'session-invalid-transition'
  | 'control-held'
  | 'secret-key-insecure'
  | 'secret-decrypt-failed'
  | 'secret-not-found'
  | 'secret-expired'
  | 'rfb-protocol'
  | 'rfb-auth-failed'
  | 'rfb-closed'
  | 'cdp-failed'
  | 'provider-unavailable'
  | 'timeout'
  | 'aborted'
  | 'unsupported-platform'
  | 'server-running'
  | 'server-unavailable'
  | 'server-version-mismatch'
  | 'not-private'
  | 'unauthorized'
  | 'not-found'
  | 'swarm-unavailable'
  | 'swarm-node-unreachable'
  | 'unsupported';

const marker = Symbol.for('nexora.error');

export class NexoraError extends Error {
  readonly [marker] = true;
  readonly code: NexoraErrorCode;

  constructor(code: NexoraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NexoraError';
    this.code = code;
  }

  /** Recognises Nexora errors across module copies, where `instanceof` would not. */
  static is(value: unknown, code?: NexoraErrorCode): value is NexoraError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[marker] === true &&
      (code === undefined || (value as NexoraError).code === code)
    );
  }
}

/** A readable one-line description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
