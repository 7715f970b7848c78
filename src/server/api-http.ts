import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { readBody } from '../client/read-body.js';
import { describeError, NexoraError, type NexoraErrorCode } from '../errors.js';
import { matchPath, type ApiRoute, type RouteReply } from './api-route.js';

/** Largest request body accepted (a key, a task, a command line: all small). */
const maxBodyBytes = 1024 * 1024;

const statusByCode: Partial<Record<NexoraErrorCode, number>> = {
  'invalid-argument': 400,
  'invalid-config': 400,
  unauthorized: 401,
  'not-found': 404,
  'session-not-found': 404,
  'secret-not-found': 404,
  'session-invalid-transition': 409,
  'control-held': 409,
  'workstation-not-ready': 409,
  'image-missing': 409,
  'secret-expired': 409,
  aborted: 499,
  'docker-unavailable': 503,
  'ports-exhausted': 503,
  'database-locked': 503,
  timeout: 504,
};

export interface ApiHandlerOptions {
  routes: readonly ApiRoute[];
  /** For TCP requests: the bearer token and the port (Host must name it). Unix-socket requests skip this. */
  auth?: (request: IncomingMessage) => boolean;
  onError?: (error: unknown, request: IncomingMessage) => void;
}

/** The request handler: routing, authentication, validation with the routes' zod schemas, errors as JSON. */
export function createApiHandler(options: ApiHandlerOptions): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      if (!NexoraError.is(error) || statusFor(error.code) >= 500) options.onError?.(error, request);
      if (!response.headersSent) sendError(response, error);
      else response.end();
    });
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: ApiHandlerOptions): Promise<void> {
  if (options.auth && !options.auth(request)) {
    throw new NexoraError('unauthorized', 'This request needs the server token: send `Authorization: Bearer <token>` (the token is in server.token in the Nexora home).');
  }
  const url = new URL(request.url ?? '/', 'http://nexora');
  const method = request.method ?? 'GET';
  let pathMatched = false;
  for (const route of options.routes) {
    const params = matchPath(route.path, url.pathname);
    if (!params) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const controller = new AbortController();
    // The client went away before the answer was complete: whatever it started is cancelled.
    const onClose = (): void => {
      if (!response.writableFinished) controller.abort(new NexoraError('aborted', 'The client disconnected.'));
    };
    response.on('close', onClose);
    const body = route.body ? validate(route.body, await readJsonBody(request), 'body') : undefined;
    const reply = await route.handler({
      params: route.params ? validate(route.params, params, 'path') : params,
      query: route.query ? validate(route.query, Object.fromEntries(url.searchParams), 'query') : {},
      body,
      request,
      response,
      signal: controller.signal,
      wantsStream: (request.headers.accept ?? '').includes('text/event-stream'),
    });
    send(response, reply);
    return;
  }
  if (pathMatched) throw new NexoraError('not-found', `${method} is not allowed on ${url.pathname}: see GET /v1/openapi.json.`);
  throw new NexoraError('not-found', `There is no ${url.pathname}: the API is described at GET /v1/openapi.json.`);
}

/** Bearer-token check for the TCP listener, with Host pinned to the loopback port (no DNS rebinding). */
export function bearerAuth(options: { token: string; port: () => number }): (request: IncomingMessage) => boolean {
  const expected = Buffer.from(`Bearer ${options.token}`);
  return (request) => {
    const host = request.headers.host ?? '';
    const port = options.port();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return false;
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}

function validate<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'path'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') || where;
  const error = new NexoraError('invalid-argument', `Invalid ${where === 'body' ? '' : `${where} `}field "${field}": ${issue?.message ?? 'invalid'}.`);
  Object.assign(error, { field });
  throw error;
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const bytes = await readBody(request, {
    maxBytes: maxBodyBytes,
    drainBytes: 64 * maxBodyBytes,
    tooLarge: () => new NexoraError('invalid-argument', `The request body is larger than ${maxBodyBytes / (1024 * 1024)} MiB: send a command, text or file under that size (put large inputs in a workspace file instead).`),
    incomplete: () => new NexoraError('aborted', 'The client disconnected before its request was complete.'),
  });
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new NexoraError('invalid-argument', 'The request body is not JSON: send a JSON object with content-type application/json.');
  }
}

function send(response: ServerResponse, reply: RouteReply): void {
  if (reply === 'written') return;
  if ('json' in reply) {
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(reply.json));
    return;
  }
  response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType, 'content-length': reply.bytes.length, 'cache-control': 'no-store' });
  response.end(reply.bytes);
}

export function statusFor(code: NexoraErrorCode): number {
  return statusByCode[code] ?? 500;
}

/** The error body every failed request gets: the NexoraError code, its message, the field at fault. */
export function errorPayload(error: unknown): { error: { code: string; message: string; field?: string } } {
  if (NexoraError.is(error)) {
    const field = (error as { field?: unknown }).field;
    return { error: { code: error.code, message: error.message, ...(typeof field === 'string' ? { field } : {}) } };
  }
  return { error: { code: 'internal', message: `The server failed unexpectedly: ${describeError(error)}. Its log has the details (\`nexora server logs\`).` } };
}

function sendError(response: ServerResponse, error: unknown): void {
  const status = NexoraError.is(error) ? statusFor(error.code) : 500;
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(errorPayload(error)));
}
