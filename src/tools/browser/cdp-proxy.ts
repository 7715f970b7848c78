import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { NexoraError, describeError } from '../../errors.js';
import type { AttachedProcess } from '../../workstation/workstation.js';
import { isDevtoolsTargetPath, rewriteDevtoolsAnswer } from './devtools-target.js';

/** Opens one byte stream to the browser's DevTools port inside the workstation. */
export type DevtoolsStreamOpener = () => Promise<AttachedProcess>;

export interface CdpProxyOptions {
  openStream: DevtoolsStreamOpener;
  /** Host port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** The secret every request must carry as its first path segment; random when omitted. */
  token?: string;
  /** Longest wait for a stream to open and for an HTTP answer. Default 10 s. */
  timeoutMs?: number;
}

const maxHttpAnswerBytes = 1024 * 1024;
const maxRequestHeadBytes = 16 * 1024;

/**
 * The only way into a workstation's DevTools protocol: an HTTP/WebSocket proxy on the host's
 * 127.0.0.1 that answers nothing without the session's token as the first path segment
 * (`http://127.0.0.1:PORT/<token>/json/version`), and reaches Chromium through a stream over
 * the Engine API (docker exec of socat), so no DevTools port is published or listens on the
 * container's network interface. Whatever answers inside may not be Chromium, so the addresses in
 * its `/json` answers are rebuilt to point at this proxy (with the token) or removed
 * (devtools-target.ts): no client of the proxy is ever told to dial a host the workstation named.
 */
export class CdpProxy {
  readonly token: string;
  private readonly server: Server;
  private readonly options: CdpProxyOptions;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<AttachedProcess>();

  private constructor(server: Server, options: CdpProxyOptions, token: string) {
    this.server = server;
    this.options = options;
    this.token = token;
  }

  static async start(options: CdpProxyOptions): Promise<CdpProxy> {
    const token = options.token ?? randomBytes(24).toString('base64url');
    const server = createServer();
    const proxy = new CdpProxy(server, options, token);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void proxy.onRequest(request, response));
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => void proxy.onUpgrade(request, socket, head));
    server.on('connection', (socket: Socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new NexoraError('cdp-failed', `The DevTools proxy could not listen on 127.0.0.1:${options.port ?? 0}: ${describeError(error)}`, { cause: error })));
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:PORT/<token>`: append `/json/version`, `/json/list`, … */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}/${this.token}`;
  }

  /** The WebSocket URL of a DevTools target path such as `/devtools/browser/<id>`. */
  webSocketUrl(targetPath: string): string {
    return `ws://127.0.0.1:${this.port}/${this.token}${targetPath}`;
  }

  close(): void {
    this.server.close();
    for (const stream of this.streams) stream.close();
    for (const socket of this.sockets) socket.destroy();
  }

  /** The request's path without the token, or undefined when the token is missing or wrong. */
  private authorise(url: string | undefined): string | undefined {
    const match = /^\/([^/?#]+)(\/[^#]*)?$/.exec(url ?? '');
    if (!match) return undefined;
    const given = Buffer.from(match[1]!);
    const expected = Buffer.from(this.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return match[2] ?? '/';
  }

  private async openStream(): Promise<AttachedProcess> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const opening = this.options.openStream();
    try {
      const stream = await Promise.race([
        opening,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NexoraError('timeout', `The stream to the browser's DevTools port did not open within ${timeoutMs} ms.`)), timeoutMs);
        }),
      ]);
      this.streams.add(stream);
      stream.stdout.on('close', () => this.streams.delete(stream));
      return stream;
    } catch (error) {
      // A stream that opens after the deadline is closed at once.
      void opening.then((late) => late.close()).catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Plain HTTP (/json/…): one stream per request, Connection: close, the answer read whole (bounded). */
  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = this.authorise(request.url);
    if (path === undefined) {
      response.writeHead(401, { 'content-type': 'text/plain' }).end('The DevTools endpoint needs the session token: http://127.0.0.1:PORT/<token>/json\n');
      return;
    }
    if ((request.method !== 'GET' && request.method !== 'PUT') || !path.startsWith('/json')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Only /json endpoints and WebSocket targets are proxied.\n');
      return;
    }
    try {
      const answer = await this.fetchThroughStream(`${request.method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nConnection: close\r\n\r\n`);
      const body = rewriteDevtoolsAnswer(answer.body.toString('utf8'), (targetPath) => this.webSocketUrl(targetPath));
      response.writeHead(answer.status, { 'content-type': 'application/json; charset=UTF-8' }).end(body);
    } catch (error) {
      response.writeHead(502, { 'content-type': 'text/plain' }).end(`The browser did not answer: ${describeError(error)}\n`);
    }
  }

  private async fetchThroughStream(requestHead: string): Promise<{ status: number; body: Buffer }> {
    const stream = await this.openStream();
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    try {
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const timer = setTimeout(() => reject(new NexoraError('timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
        stream.stdout.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxHttpAnswerBytes) {
            clearTimeout(timer);
            reject(new NexoraError('cdp-failed', `the answer is over ${maxHttpAnswerBytes} bytes`));
            stream.close();
            return;
          }
          chunks.push(chunk);
          // Chromium may keep the connection open after answering: stop at Content-Length.
          const whole = complete(Buffer.concat(chunks));
          if (whole) {
            clearTimeout(timer);
            resolve(whole);
          }
        });
        stream.stdout.on('end', () => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks));
        });
        stream.stdout.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        stream.stdin.write(requestHead);
      });
      const split = raw.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw.subarray(0, Math.max(split, 0)).toString('latin1'));
      if (split < 0 || !status) throw new NexoraError('cdp-failed', 'the browser sent no HTTP answer (is Chromium running?)');
      return { status: Number(status[1]), body: raw.subarray(split + 4) };
    } finally {
      stream.close();
    }
  }

  /** WebSocket targets: the request head is replayed without the token, then bytes flow both ways. */
  private async onUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const path = this.authorise(request.url);
    if (path === undefined || !isDevtoolsTargetPath(path)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', () => undefined);
    let stream: AttachedProcess;
    try {
      stream = await this.openStream();
    } catch (error) {
      socket.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\nX-Reason: ${describeError(error).replace(/[\r\n]/g, ' ').slice(0, 200)}\r\n\r\n`);
      return;
    }
    const lines = [`GET ${path} HTTP/1.1`];
    for (let index = 0; index < request.rawHeaders.length; index += 2) {
      const name = request.rawHeaders[index]!;
      // Chromium refuses WebSocket connections that carry an Origin it does not allow.
      if (/^(origin)$/i.test(name)) continue;
      lines.push(`${name}: ${request.rawHeaders[index + 1]!}`);
    }
    const requestHead = `${lines.join('\r\n')}\r\n\r\n`;
    if (requestHead.length > maxRequestHeadBytes) {
      stream.close();
      socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const finish = (): void => {
      stream.close();
      socket.destroy();
    };
    stream.stdout.on('end', finish);
    stream.stdout.on('close', finish);
    stream.stdout.on('error', finish);
    socket.on('close', finish);
    stream.stdin.on('error', finish);
    stream.stdin.write(requestHead);
    if (head.length > 0) stream.stdin.write(head);
    // pipe() applies backpressure both ways, so neither side buffers without bound.
    socket.pipe(stream.stdin);
    stream.stdout.pipe(socket);
  }
}

/** The answer when its head and a Content-Length body have all arrived, else undefined. */
function complete(raw: Buffer): Buffer | undefined {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(raw.subarray(0, split).toString('latin1'));
  if (!length) return undefined;
  return raw.length >= split + 4 + Number(length[1]) ? raw.subarray(0, split + 4 + Number(length[1])) : undefined;
}
