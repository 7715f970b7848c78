import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a handler gets: validated inputs, and a signal that aborts when the client goes away. */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: IncomingMessage;
  response: ServerResponse;
  signal: AbortSignal;
  /** The client asked for a stream of progress events (Accept: text/event-stream). */
  wantsStream: boolean;
}

/** A JSON answer, raw bytes, or nothing when the handler wrote the response itself. */
export type RouteReply = { status?: number; json: unknown } | { status?: number; contentType: string; bytes: Buffer } | 'written';

export interface ApiRoute<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** `/v1/sessions/:id/stop`: segments starting with `:` are parameters. */
  path: string;
  summary: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Answers with server-sent events when asked to (documented in OpenAPI). */
  streams?: boolean;
  /** The response's content type when it is not JSON (documented in OpenAPI). */
  produces?: string;
  handler: (context: RouteContext<z.infer<P>, z.infer<Q>, z.infer<B>>) => RouteReply | Promise<RouteReply>;
}

/** Keeps each route's types while storing them in one list. */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(definition: ApiRoute<P, Q, B>): ApiRoute {
  return definition;
}

/** Matches a request path against a route pattern; the parameters when it matches. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < want.length; index++) {
    const segment = want[index] ?? '';
    const actual = got[index] ?? '';
    if (segment.startsWith(':')) {
      if (actual === '') return undefined;
      try {
        params[segment.slice(1)] = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
    } else if (segment !== actual) {
      return undefined;
    }
  }
  return params;
}
