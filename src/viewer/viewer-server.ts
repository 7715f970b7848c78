import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { describeError, NexoraError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { EventRecord } from '../store/index.js';
import type { RfbEndpoint } from '../workstation/workstation.js';
import { HumanInputRecorder } from './human-input-recorder.js';
import { InputGate } from '../live/input-gate.js';
import { proxyRfb } from './rfb-proxy.js';

/** A session as the web view lists it. */
export interface ViewerSession {
  id: string;
  status: string;
  model: string;
  workspaceDir: string | null;
  createdAt: string;
}

/** What the web view reads and writes; the CLI binds it to the SessionManager and EventStore. */
export interface ViewerBackend {
  listSessions(): Promise<ViewerSession[]>;
  /** The VNC endpoint (with its password, which stays in this process). */
  rfbEndpoint(sessionId: string): Promise<RfbEndpoint>;
  listEvents(sessionId: string, options: { afterId: number; limit: number }): Promise<EventRecord[]>;
  recordEvent(sessionId: string, kind: string, payload: unknown): Promise<void>;
  /** Where the session's saved screenshots are (served by file name). */
  screenshotsDir?(sessionId: string): string;
  /** Commands of the session's runs waiting for a person's yes, when runs here can ask (the server's). */
  approvals?: ViewerApprovals;
}

/** A command waiting for a yes, as the page shows it. */
export interface PendingApprovalView {
  id: string;
  tool: string;
  command: string;
  reasons: string[];
}

export interface ViewerApprovals {
  pending(sessionId: string): PendingApprovalView[];
  /** False when the question is no longer open (answered elsewhere, or its run ended). */
  answer(sessionId: string, approvalId: string, decision: { approved: true } | { approved: false; reason: string }): boolean;
}

export interface ViewerServerOptions {
  backend: ViewerBackend;
  /** The take-over gate of each session; sessions without one get a gate of their own here. */
  gateFor?: (sessionId: string) => InputGate;
  /** 0 picks a free port. */
  port?: number;
  /** How often live transcripts look for new events. */
  pollMs?: number;
  /** Store the text a person types during take-over (config `viewer.recordTypedText`); default: only how many keys. */
  recordTypedText?: boolean;
}

export interface ViewerServer {
  /** The page's address, token included: `http://127.0.0.1:PORT/t/TOKEN/`. */
  url: string;
  port: number;
  token: string;
  /** The address of one session's page. */
  sessionUrl(sessionId: string): string;
  close(): Promise<void>;
}

const sessionIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
const controlBody = z.strictObject({ action: z.enum(['take', 'hand-back']) });
const approvalAnswer = z.strictObject({ id: z.string().regex(/^apr_\d{1,9}$/), approved: z.boolean() });
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** Where the page's own files live (src/viewer/static, also in the published package). */
export function viewerStaticDir(): string {
  return join(packageRoot(), 'src', 'viewer', 'static');
}

function novncDir(): string {
  // The package exports only core/rfb.js; its folder is two levels up.
  return dirname(dirname(createRequire(import.meta.url).resolve('@novnc/novnc')));
}

/**
 * The local web view: on 127.0.0.1 only, every path under `/t/<random token>/` (anything else
 * is refused), the live display through noVNC over our own RFB proxy, take-over, and the
 * transcript with live updates over server-sent events.
 */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const token = randomBytes(24).toString('base64url');
  const prefix = `/t/${token}/`;
  const ownGates = new Map<string, InputGate>();
  const gateFor = options.gateFor ?? ((id: string): InputGate => ownGates.get(id) ?? ownGates.set(id, new InputGate()).get(id) ?? new InputGate());
  const recorders = new Map<string, HumanInputRecorder>();
  const backend = options.backend;
  const pollMs = options.pollMs ?? 400;
  const staticDir = viewerStaticDir();
  const novnc = novncDir();
  const closers = new Set<() => void>();
  let port = 0;

  const record = (sessionId: string, kind: string, payload: unknown): void => {
    // The transcript is a record, not the control path: a failed write must not stop the view.
    backend.recordEvent(sessionId, kind, payload).catch(() => undefined);
  };
  const recorderFor = (sessionId: string): HumanInputRecorder => {
    let recorder = recorders.get(sessionId);
    if (!recorder) {
      recorder = new HumanInputRecorder((summary) => record(sessionId, 'human-input', summary), { recordText: options.recordTypedText ?? false });
      recorders.set(sessionId, recorder);
    }
    return recorder;
  };

  const hostAllowed = (request: IncomingMessage): boolean => {
    // A DNS-rebinding page would arrive with its own host name.
    const host = request.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };
  /** The path below the token, decoded; `forbidden` without the token, `malformed` for a bad `%` escape. */
  const tokenPath = (url: string): { path: string } | 'forbidden' | 'malformed' => {
    const path = url.split('?')[0] ?? '';
    const match = /^\/t\/([^/]+)(\/.*)?$/.exec(path);
    if (!match?.[1]) return 'forbidden';
    const given = Buffer.from(match[1]);
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forbidden';
    try {
      return { path: decodeURIComponent((match[2] ?? '/').slice(1)) };
    } catch {
      // `%zz` or a truncated escape: decodeURIComponent throws, which must not reach the process.
      return 'malformed';
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: describeError(error) });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    setSecurityHeaders(response, port);
    if (!hostAllowed(request)) return sendText(response, 403, 'Forbidden: unexpected Host header.');
    const decoded = tokenPath(request.url ?? '/');
    if (decoded === 'forbidden') return sendText(response, 403, 'Forbidden: this address needs the token from `nexora view`.');
    if (decoded === 'malformed') return sendText(response, 400, 'Bad request: the path has a malformed %-escape.');
    const path = decoded.path;
    const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
    if (path === '' || path === 'index.html') return sendFile(response, join(staticDir, 'index.html'));
    if (path === 'app.js' || path === 'boot.js' || path === 'style.css') return sendFile(response, join(staticDir, path));
    if (path.startsWith('novnc/')) return sendFile(response, safeJoin(novnc, path.slice('novnc/'.length)));
    if (path === 'api/sessions') return sendJson(response, 200, { sessions: await backend.listSessions() });
    const sessionRoute = /^api\/sessions\/([^/]+)\/(events|live|control|approvals|screenshots\/[^/]+)$/.exec(path);
    if (!sessionRoute?.[1] || !sessionIdPattern.test(sessionRoute[1])) return sendText(response, 404, 'Not found.');
    const sessionId = sessionRoute[1];
    const route = sessionRoute[2] ?? '';
    if (route === 'events') {
      const afterId = z.coerce.number().int().min(0).catch(0).parse(query.get('after') ?? 0);
      return sendJson(response, 200, { events: await backend.listEvents(sessionId, { afterId, limit: 500 }) });
    }
    if (route === 'live') return streamEvents(request, response, sessionId, z.coerce.number().int().min(0).catch(0).parse(query.get('after') ?? 0));
    if (route === 'approvals') {
      const approvals = backend.approvals;
      if (!approvals) return sendJson(response, 200, { approvals: [] });
      if (request.method === 'POST') {
        const parsed = approvalAnswer.safeParse(await readJson(request));
        if (!parsed.success) return sendJson(response, 400, { error: 'send {"id":"apr_…","approved":true|false}' });
        const answered = approvals.answer(sessionId, parsed.data.id, parsed.data.approved ? { approved: true } : { approved: false, reason: 'the person refused it in the web view' });
        if (!answered) return sendJson(response, 409, { error: 'that question is no longer open (answered elsewhere, or its run ended)' });
      }
      return sendJson(response, 200, { approvals: approvals.pending(sessionId) });
    }
    if (route === 'control') {
      const gate = gateFor(sessionId);
      if (request.method === 'POST') {
        const parsed = controlBody.safeParse(await readJson(request));
        if (!parsed.success) return sendJson(response, 400, { error: 'send {"action":"take"} or {"action":"hand-back"}' });
        if (parsed.data.action === 'take' && gate.take()) record(sessionId, 'control-take', { by: 'person' });
        if (parsed.data.action === 'hand-back') {
          recorders.get(sessionId)?.flush();
          if (gate.handBack()) record(sessionId, 'control-return', { to: 'agent' });
        }
      }
      return sendJson(response, 200, { holder: gate.holder });
    }
    const name = route.slice('screenshots/'.length);
    const dir = backend.screenshotsDir?.(sessionId);
    if (!dir || !/^[A-Za-z0-9_.-]+\.png$/.test(name)) return sendText(response, 404, 'Not found.');
    return sendFile(response, join(dir, name));
  }

  function streamEvents(request: IncomingMessage, response: ServerResponse, sessionId: string, after: number): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    let lastId = after;
    let busy = false;
    const gate = gateFor(sessionId);
    const sendHolder = (): void => void response.write(`event: control\ndata: ${JSON.stringify({ holder: gate.holder })}\n\n`);
    sendHolder();
    let approvalsShown = '[]';
    const sendApprovals = (): void => {
      const now = JSON.stringify(backend.approvals?.pending(sessionId) ?? []);
      if (now === approvalsShown) return;
      approvalsShown = now;
      response.write(`event: approvals\ndata: ${now}\n\n`);
    };
    const unsubscribe = gate.subscribe(sendHolder);
    const poll = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        sendApprovals();
        const events = await backend.listEvents(sessionId, { afterId: lastId, limit: 500 });
        for (const event of events) {
          lastId = event.id;
          response.write(`id: ${event.id}\nevent: transcript\ndata: ${JSON.stringify(event)}\n\n`);
        }
      } catch {
        // The store was busy or closed; the next poll tries again.
      } finally {
        busy = false;
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), pollMs);
    const stop = (): void => {
      clearInterval(timer);
      unsubscribe();
      closers.delete(stop);
      response.end();
    };
    closers.add(stop);
    request.on('close', stop);
  }

  const sockets = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false) });
  server.on('upgrade', (request, socket, head) => {
    const decoded = hostAllowed(request) ? tokenPath(request.url ?? '/') : 'forbidden';
    if (decoded === 'malformed') {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      return;
    }
    const match = decoded !== 'forbidden' ? /^ws\/([A-Za-z0-9_-]{1,128})$/.exec(decoded.path) : null;
    const origin = request.headers.origin;
    if (!match?.[1] || (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    const sessionId = match[1];
    sockets.handleUpgrade(request, socket, head, (browser) => {
      const gate = gateFor(sessionId);
      backend
        .rfbEndpoint(sessionId)
        .then((upstream) => {
          const close = (): void => browser.close();
          closers.add(close);
          return proxyRfb({
            browser,
            upstream,
            allowInput: () => gate.holder === 'person',
            onInput: (input) => recorderFor(sessionId).add(input),
            onClose: () => closers.delete(close),
          });
        })
        .catch((error: unknown) => browser.close(1011, describeError(error).slice(0, 100)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new NexoraError('invalid-argument', `The web view could not listen on 127.0.0.1:${options.port ?? 0}: ${describeError(error)}. Pick another port with --port.`, { cause: error })));
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${prefix}`;
  return {
    url,
    port,
    token,
    sessionUrl: (sessionId) => `${url}#${encodeURIComponent(sessionId)}`,
    close: async () => {
      for (const recorder of recorders.values()) recorder.flush();
      for (const close of [...closers]) close();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Headers on every answer. The page loads only its own scripts and styles and talks only to its
 * own origin, so injected markup (a session name, a transcript line) could neither run script
 * nor send anything elsewhere; nothing may frame it (click-jacking the Take control button).
 */
function setSecurityHeaders(response: ServerResponse, port: number): void {
  const self = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `ws://127.0.0.1:${port}`, `ws://localhost:${port}`].join(' ');
  response.setHeader(
    'content-security-policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      // noVNC sets element styles from script, which style-src does not restrict.
      "style-src 'self'",
      "img-src 'self' data: blob:",
      `connect-src 'self' ${self}`,
      "font-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  );
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'no-referrer');
}

function safeJoin(root: string, relative: string): string {
  const joined = normalize(join(root, relative));
  return joined.startsWith(root + sep) ? joined : join(root, '__outside__');
}

function sendFile(response: ServerResponse, file: string): void {
  if (!existsSync(file) || !statSync(file).isFile()) return sendText(response, 404, 'Not found.');
  response.writeHead(200, {
    'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  });
  createReadStream(file).pipe(response);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 4096) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
