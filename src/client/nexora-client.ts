import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { NexoraError, type NexoraErrorCode } from '../errors.js';
import { checkServerSocket } from './private-dirs.js';
import { readBody } from './read-body.js';

/** Where a server listens: its Unix socket, or 127.0.0.1:<port> with its token. */
export type ServerAddress = { socketPath: string } | { port: number; token: string };

export interface RequestOptions {
  signal?: AbortSignal;
  /** Default 30 s; streams have none (they end when the work does). */
  timeoutMs?: number;
  /** Extra headers (Accept: image/png for raw screenshots). */
  headers?: Record<string, string>;
}

/** One server-sent event. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

/**
 * The typed HTTP client of the Nexora server API. Errors come back as NexoraError with the
 * server's code and message.
 */
export class NexoraClient {
  private readonly address: ServerAddress;
  private readonly agent: Agent;

  constructor(address: ServerAddress) {
    this.address = address;
    // Kept alive: tool calls in a loop reuse one connection.
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown = {}, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('POST', path, body, options);
  }

  put<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('PUT', path, body, options);
  }

  delete<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('DELETE', path, undefined, options);
  }

  /** A raw answer: status, content type and bytes (for PNG screenshots). */
  async raw(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<{ status: number; contentType: string; bytes: Buffer }> {
    const response = await this.send(method, path, body, options);
    const bytes = await readAll(response);
    return { status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), bytes };
  }

  /** Posts and reads the answer as server-sent events, calling `onEvent` for each. */
  async stream(method: string, path: string, body: unknown, onEvent: (event: StreamEvent) => void, options: Omit<RequestOptions, 'timeoutMs'> = {}): Promise<void> {
    const response = await this.send(method, path, body, { ...options, timeoutMs: 0, headers: { accept: 'text/event-stream', ...options.headers } });
    if (!String(response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      throw toError(response.statusCode ?? 0, await readAll(response));
    }
    response.setEncoding('utf8');
    let buffer = '';
    for await (const chunk of response as AsyncIterable<string>) {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        onEvent({ event, data: data === undefined ? undefined : (JSON.parse(data) as unknown) });
      }
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private async json<T>(method: string, path: string, body: unknown, options: RequestOptions): Promise<T> {
    const response = await this.send(method, path, body, options);
    const bytes = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status >= 400) throw toError(status, bytes);
    return JSON.parse(bytes.toString('utf8')) as T;
  }

  private send(method: string, path: string, body: unknown, options: RequestOptions): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...options.headers };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const where = 'socketPath' in this.address ? { socketPath: this.address.socketPath } : { host: '127.0.0.1', port: this.address.port };
    if ('token' in this.address) headers.authorization = `Bearer ${this.address.token}`;
    return new Promise((resolve, reject) => {
      // Before every request, not once: whoever answers on the socket is sent keys and
      // environments, so it must be the user's own in a directory only the user may enter. An
      // absent socket is not connected to at all (one could appear in between).
      if ('socketPath' in this.address && checkServerSocket(this.address.socketPath) === 'absent') {
        reject(noServer());
        return;
      }
      const request = httpRequest({ ...where, method, path, headers, agent: this.agent, ...noServerName, ...(options.signal ? { signal: options.signal } : {}) }, resolve);
      const timeoutMs = options.timeoutMs ?? 30_000;
      if (timeoutMs > 0) {
        request.setTimeout(timeoutMs, () => request.destroy(new NexoraError('timeout', `The Nexora server did not answer ${method} ${path} within ${Math.round(timeoutMs / 1000)} s: see \`nexora server logs\`.`)));
      }
      request.on('error', (error) => reject(NexoraError.is(error) ? error : unreachable(error)));
      request.end(payload);
    });
  }
}

/**
 * Node's agent derives a TLS server name from the host with net.isIP unless given one; the
 * IPv6 pattern it compiles on first use costs 10–15 ms of a CLI command's start, a tenth of
 * it. There is no TLS here. (Not in @types/node's RequestOptions, hence spread.)
 */
const noServerName = { servername: '' };

function unreachable(error: Error): NexoraError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED') return noServer(error);
  if (error.name === 'AbortError') return new NexoraError('aborted', 'The request was cancelled.', { cause: error });
  return new NexoraError('server-unavailable', `The Nexora server connection failed: ${error.message}.`, { cause: error });
}

function noServer(cause?: Error): NexoraError {
  return new NexoraError('server-unavailable', 'No Nexora server answers: start one with `nexora server start`.', cause ? { cause } : {});
}

function toError(status: number, bytes: Buffer): NexoraError {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { error?: { code?: string; message?: string; field?: string } };
    if (parsed.error?.message) {
      const error = new NexoraError((parsed.error.code ?? 'server-unavailable') as NexoraErrorCode, parsed.error.message);
      if (parsed.error.field) Object.assign(error, { field: parsed.error.field });
      return error;
    }
  } catch {
    // Not our error body: fall through.
  }
  return new NexoraError('server-unavailable', `The Nexora server answered HTTP ${status}: ${bytes.toString('utf8').slice(0, 200)}`);
}

function readAll(response: IncomingMessage): Promise<Buffer> {
  return readBody(response, { incomplete: () => new NexoraError('server-unavailable', 'The Nexora server closed the connection before its answer was complete: see `nexora server logs`.') });
}
