import { NexoraError } from '../errors.js';

/** SQLSTATE codes the repositories turn into Nexora errors. */
export const sqlStates = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
} as const;

/** The SQLSTATE of a database error from either engine (both carry `code`), if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The error for a row that names a session the store does not have. */
export function unknownSession(sessionId: string, cause: unknown): NexoraError {
  return new NexoraError('session-not-found', `No session ${sessionId}: create the session before recording anything for it.`, { cause });
}
