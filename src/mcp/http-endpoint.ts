import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalMode } from '../agent/approval-mode.js';
import type { SessionsApi } from './sessions-api.js';
import { createNexoraMcp, type NexoraMcp } from './nexora-mcp-server.js';

/** Largest JSON-RPC message accepted (tool inputs are small; a typed text is at most 100 kB). */
const maxBodyBytes = 4 * 1024 * 1024;
/** A client that sent nothing for this long is gone: its session is stopped. */
const idleMs = 30 * 60_000;

export interface McpEndpointQuery {
  workspace?: string;
  session?: string;
  keep?: boolean;
}

interface Connection {
  transport: StreamableHTTPServerTransport;
  server: NexoraMcp;
  lastSeen: number;
}

/**
 * MCP over streamable HTTP: one MCP session (and by default one Nexora session) per client,
 * found by its `mcp-session-id` header; the client's DELETE, or its silence, ends both.
 */
export class McpHttpEndpoint {
  private readonly nexora: { sessions: SessionsApi };
  /** The user's approval policy, read for each new client (their config may change). */
  private readonly approve: () => Promise<ApprovalMode>;
  private readonly log: (line: string) => void;
  private readonly connections = new Map<string, Connection>();
  private readonly sweep: NodeJS.Timeout;

  constructor(options: { nexora: { sessions: SessionsApi }; log: (line: string) => void; approve?: () => Promise<ApprovalMode> }) {
    this.nexora = options.nexora;
    this.approve = options.approve ?? (() => Promise.resolve('risky'));
    this.log = options.log;
    this.sweep = setInterval(() => {
      for (const [id, connection] of this.connections) {
        if (Date.now() - connection.lastSeen > idleMs) void this.end(id, 'idle');
      }
    }, 60_000);
    this.sweep.unref();
  }

  async handle(request: IncomingMessage, response: ServerResponse, query: McpEndpointQuery): Promise<void> {
    const header = request.headers['mcp-session-id'];
    const id = Array.isArray(header) ? header[0] : header;
    const body = request.method === 'POST' ? await readBody(request) : undefined;
    if (body === invalid) return rpcError(response, 400, -32700, 'Parse error: the body is not JSON (or larger than 4 MB).');
    const existing = id ? this.connections.get(id) : undefined;
    if (existing) {
      existing.lastSeen = Date.now();
      await existing.transport.handleRequest(request, response, body);
      return;
    }
    if (id) return rpcError(response, 404, -32001, 'Unknown MCP session: it ended or the server restarted. Initialize again.');
    if (request.method !== 'POST' || !isInitializeRequest(body)) return rpcError(response, 400, -32000, 'Bad request: send an initialize request first (no mcp-session-id).');
    const server = createNexoraMcp({
      nexora: this.nexora,
      approve: await this.approve(),
      ...(query.workspace ? { workspace: query.workspace } : {}),
      ...(query.session ? { sessionId: query.session } : {}),
      ...(query.keep ? { keep: true } : {}),
      log: (line) => this.log(`mcp: ${line}`),
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        this.connections.set(sessionId, { transport, server, lastSeen: Date.now() });
        this.log(`mcp: client connected (${sessionId})`);
      },
    });
    transport.onclose = () => {
      const sessionId = transport.sessionId;
      if (sessionId && this.connections.get(sessionId)?.transport === transport) this.connections.delete(sessionId);
      void server.binding.close();
    };
    await server.mcp.connect(transport);
    await transport.handleRequest(request, response, body);
  }

  /** Ends every MCP client (the server is stopping). */
  async closeAll(): Promise<void> {
    clearInterval(this.sweep);
    await Promise.all([...this.connections.keys()].map((id) => this.end(id, 'server stopping')));
  }

  private async end(id: string, why: string): Promise<void> {
    const connection = this.connections.get(id);
    if (!connection) return;
    this.connections.delete(id);
    this.log(`mcp: client ${id} ended (${why})`);
    await connection.server.mcp.close().catch(() => undefined);
    await connection.server.binding.close();
  }
}

const invalid = Symbol('invalid');

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return invalid;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return invalid;
  }
}

function rpcError(response: ServerResponse, status: number, code: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
