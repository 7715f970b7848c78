import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkRequest } from './checks.js';
import { parseScript, type ModelScript, type ModelScriptInput, type ScriptTurn } from './script.js';
import { errorBody, writeAnthropicStream, writeGoogleStream, writeOpenAiStream, writeResponsesStream, type ChatDialect, type PlannedReply } from './wire-response.js';
import { normalizeAnthropic, normalizeGoogle, normalizeOpenAi, normalizeResponses, type NormalizedRequest } from './wire-request.js';

/**
 * The one fake the tests allow: a local model server speaking the providers' real HTTP wire
 * formats (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages and Google Gemini,
 * streamed as server-sent events),
 * replaying a script, recording every request and checking what it received. A request that
 * breaks the script's expectations is answered with HTTP 400 naming the violations, so the
 * client fails loudly as well as `violations` listing them.
 */
export type Wire = 'openai' | 'anthropic' | 'responses' | 'google';

export interface RecordedRequest {
  wire: Wire;
  path: string;
  receivedAt: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  normalized: NormalizedRequest | undefined;
  /** Index of the script turn this request consumed. */
  turnIndex: number;
  status: number;
  violations: string[];
}

export interface ScriptedModelServerOptions {
  script: ModelScript | ModelScriptInput;
  /** Require this API key (Bearer for OpenAI, x-api-key for Anthropic). */
  apiKey?: string;
  /** How Chat Completions replies are streamed (see ChatDialect); default OpenAI's way. */
  chatDialect?: ChatDialect;
}

export class ScriptedModelServer {
  readonly script: ModelScript;
  readonly requests: RecordedRequest[] = [];
  private readonly apiKey: string | undefined;
  private readonly chatDialect: ChatDialect;
  private readonly server: Server;
  private nextTurn = 0;
  private pendingToolCallIds: string[] = [];
  private port = 0;

  private constructor(options: ScriptedModelServerOptions) {
    this.script = parseScript(options.script);
    this.apiKey = options.apiKey;
    this.chatDialect = options.chatDialect ?? 'openai';
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: `model server crashed: ${String(error)}` } }));
      });
    });
  }

  static async start(options: ScriptedModelServerOptions): Promise<ScriptedModelServer> {
    const instance = new ScriptedModelServer(options);
    await new Promise<void>((resolve, reject) => {
      instance.server.once('error', reject);
      instance.server.listen(0, '127.0.0.1', () => resolve());
    });
    instance.port = (instance.server.address() as AddressInfo).port;
    return instance;
  }

  /** Base URL for OpenAI-style clients (…/v1). */
  get openAiBaseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Base URL for the Anthropic client (…/v1). */
  get anthropicBaseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Every violation of every request, each prefixed by its request number. */
  get violations(): string[] {
    return this.requests.flatMap((request, index) => request.violations.map((violation) => `request ${index + 1}: ${violation}`));
  }

  /** How many turns of the script have been played. */
  get turnsPlayed(): number {
    return this.nextTurn;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const wire: Wire | undefined = path.endsWith('/chat/completions')
      ? 'openai'
      : path.endsWith('/messages')
        ? 'anthropic'
        : path.endsWith('/responses')
          ? 'responses'
          : /\/models\/[^/]+:(stream)?[gG]enerateContent$/.test(path)
            ? 'google'
            : undefined;
    const raw = await readBody(request);
    const record: RecordedRequest = {
      wire: wire ?? 'openai',
      path,
      receivedAt: Date.now(),
      headers: request.headers,
      body: undefined,
      normalized: undefined,
      turnIndex: -1,
      status: 0,
      violations: [],
    };
    this.requests.push(record);
    const fail = (status: number, message: string, headers: Record<string, string> = {}): void => {
      record.status = status;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(errorBody(record.wire, status, message)));
    };
    if (request.method !== 'POST' || !wire) {
      record.violations.push(`unexpected ${request.method ?? '?'} ${path}`);
      fail(404, `no such endpoint: ${request.method ?? '?'} ${path}`);
      return;
    }
    const keyViolation = this.checkKey(wire, request);
    if (keyViolation) {
      record.violations.push(keyViolation);
      fail(401, keyViolation);
      return;
    }
    try {
      record.body = JSON.parse(raw) as unknown;
      record.normalized = normalize(wire, path, record.body);
    } catch (error) {
      record.violations.push(`malformed ${wire} request: ${String(error)}`);
      fail(400, record.violations[0] ?? 'malformed request');
      return;
    }

    const turn = this.takeTurn();
    record.turnIndex = turn ? turn.index : -1;
    if (!turn) {
      record.violations.push(`script "${this.script.name}" is exhausted after ${this.script.turns.length} turns`);
      fail(400, record.violations[0] ?? 'exhausted');
      return;
    }
    if ('fault' in turn.turn) {
      const fault = turn.turn.fault;
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      fail(fault.status, fault.message, headers);
      return;
    }

    const violations = checkRequest({
      script: this.script,
      request: record.normalized,
      turn: turn.turn,
      pendingToolCallIds: this.script.loop ? [] : this.pendingToolCallIds,
    });
    record.violations.push(...violations);
    if (violations.length > 0) {
      fail(400, `scripted model "${this.script.name}" turn ${turn.index + 1}: ${violations.join('; ')}`);
      return;
    }
    const respond = turn.turn.respond;
    if (respond.delayMs > 0) {
      const closed = await delayUnlessClosed(respond.delayMs, request);
      if (closed) {
        record.status = 499;
        return;
      }
    }
    const reply: PlannedReply = {
      respond,
      model: record.normalized.model,
      responseId: `resp_${turn.index + 1}`,
      toolCallIds: respond.toolCalls.map((_, index) => `call_${turn.index + 1}_${index + 1}`),
    };
    this.pendingToolCallIds = reply.toolCallIds;
    record.status = 200;
    if (wire === 'openai') writeOpenAiStream(response, reply, this.chatDialect);
    else if (wire === 'responses') writeResponsesStream(response, reply);
    else if (wire === 'google') writeGoogleStream(response, reply);
    else writeAnthropicStream(response, reply);
  }

  private takeTurn(): { turn: ScriptTurn; index: number } | undefined {
    const turns = this.script.turns;
    const index = this.script.loop ? this.nextTurn % turns.length : this.nextTurn;
    const turn = turns[index];
    if (!turn) return undefined;
    this.nextTurn++;
    return { turn, index };
  }

  private checkKey(wire: Wire, request: IncomingMessage): string | undefined {
    if (this.apiKey === undefined) return undefined;
    const given = wire === 'anthropic' ? request.headers['x-api-key'] : wire === 'google' ? request.headers['x-goog-api-key'] : request.headers.authorization;
    const expected = wire === 'anthropic' || wire === 'google' ? this.apiKey : `Bearer ${this.apiKey}`;
    return given === expected ? undefined : `wrong or missing API key for ${wire}`;
  }
}

function normalize(wire: Wire, path: string, body: unknown): NormalizedRequest {
  switch (wire) {
    case 'openai':
      return normalizeOpenAi(body);
    case 'responses':
      return normalizeResponses(body);
    case 'anthropic':
      return normalizeAnthropic(body);
    case 'google': {
      const match = /\/models\/([^/:]+):(stream)?/.exec(path);
      return normalizeGoogle(body, match?.[1] ?? '', match?.[2] !== undefined);
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Waits, returning true early if the client hung up (an interrupted step). */
function delayUnlessClosed(ms: number, request: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      request.socket.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    request.socket.once('close', onClose);
  });
}
