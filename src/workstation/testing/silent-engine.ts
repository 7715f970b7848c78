import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A request the engine received: what it asked for, and whether its connection is still open. */
export interface HeldRequest {
  method: string;
  path: string;
  open: boolean;
}

/** One route the engine answers (all others are held): a method and a path prefix. */
export interface EngineAnswer {
  method: string;
  path: string | RegExp;
  status?: number;
  body?: unknown;
}

/**
 * An HTTP server on a Unix socket that plays a wedged Docker engine: it accepts every
 * connection and request and never answers, except the routes it is told to answer. Tests give
 * its socket as DOCKER_HOST or a swarm endpoint, and read `held` to see which requests are
 * still open (a caller that gave up must have closed its connection).
 */
export class SilentEngine {
  readonly socketPath: string;
  /** Every request it held (answered routes are not listed). */
  readonly received: HeldRequest[] = [];
  private readonly dir: string;
  private readonly server: Server;
  private readonly responses = new Set<ServerResponse>();

  private constructor(dir: string, private readonly answers: readonly EngineAnswer[]) {
    this.dir = dir;
    this.socketPath = join(dir, 'engine.sock');
    this.server = createServer((request, response) => this.handle(request, response));
  }

  static async start(answers: readonly EngineAnswer[] = []): Promise<SilentEngine> {
    const engine = new SilentEngine(mkdtempSync(join(tmpdir(), 'nexora-silent-engine-')), answers);
    await new Promise<void>((resolve, reject) => {
      engine.server.once('error', reject);
      engine.server.listen(engine.socketPath, () => resolve());
    });
    return engine;
  }

  /** `unix://…`, for DOCKER_HOST or NEXORA_SWARM_NODES. */
  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  /** Requests that got no answer and whose connection the client has not closed. */
  get held(): HeldRequest[] {
    return this.received.filter((request) => request.open);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '';
    const method = request.method ?? 'GET';
    const answer = this.answers.find((candidate) => candidate.method === method && (typeof candidate.path === 'string' ? path.split('?')[0] === candidate.path : candidate.path.test(path)));
    if (answer) {
      request.resume();
      const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
      response.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', Connection: 'close' });
      response.end(body);
      return;
    }
    const held: HeldRequest = { method, path, open: true };
    this.received.push(held);
    this.responses.add(response);
    request.resume();
    // The client closing its end is the only way this request ends.
    response.on('close', () => {
      held.open = false;
      this.responses.delete(response);
    });
  }

  async close(): Promise<void> {
    for (const response of this.responses) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** How a call against a silent engine ended: the error it rejected with and when. */
export async function rejection(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const begun = Date.now();
  const error = await call.then(
    () => new Error('the call succeeded against an engine that never answers'),
    (caught: unknown) => caught,
  );
  return { error, ms: Date.now() - begun };
}
