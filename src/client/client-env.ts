import { NexoraError, type NexoraErrorCode } from '../errors.js';

/**
 * A process environment as a request carries it (runs, jobs, model questions): the server
 * reads the configuration and the provider keys it names from the client's environment.
 */
export function environmentOf(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** The NexoraError an `error` event of a server stream carries. */
export function streamedError(data: unknown): NexoraError {
  const error = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return new NexoraError(
    (typeof error?.code === 'string' ? error.code : 'server-unavailable') as NexoraErrorCode,
    typeof error?.message === 'string' ? error.message : 'The server reported a failure without saying which: see `nexora server logs`.',
  );
}
