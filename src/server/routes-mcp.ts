import { z } from 'zod';
import { NexoraClient } from '../client/nexora-client.js';
import { loadConfig } from '../config/load-config.js';
import { McpHttpEndpoint } from '../mcp/http-endpoint.js';
import { Sessions } from '../sdk/nexora.js';
import { route, type ApiRoute } from './api-route.js';
import type { NexoraServer } from './nexora-server.js';

const mcpQuery = z.strictObject({
  workspace: z.string().refine((value) => value.startsWith('/'), 'must be an absolute path').optional().describe("The project of this client's session (default: the client's roots)."),
  session: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a session id such as ses_…').optional().describe('Attach to this session instead of starting one.'),
  keep: z.enum(['0', '1']).optional().describe("1: leave the client's session running when it disconnects."),
});

/**
 * The MCP endpoint (streamable HTTP) on the server's own listeners: the Unix socket, and
 * the TCP one behind its bearer token. Its tools call this same API (through the socket), so
 * they take the same paths, checks and workspace guard as every other client.
 */
export function mcpRoutes(server: NexoraServer): ApiRoute[] {
  let endpoint: McpHttpEndpoint | undefined;
  const handler = async ({ request, response, query }: { request: Parameters<McpHttpEndpoint['handle']>[0]; response: Parameters<McpHttpEndpoint['handle']>[1]; query: z.infer<typeof mcpQuery> }): Promise<'written'> => {
    endpoint ??= new McpHttpEndpoint({
      nexora: { sessions: new Sessions(new NexoraClient({ socketPath: server.files.socket })) },
      log: (line) => server.log.info(line),
      // The user's own config, as for runs: a workspace file never chooses the guardrail.
      approve: async () => (await loadConfig({ env: server.clientEnv(undefined) })).config.agent.approve,
    });
    await endpoint.handle(request, response, { ...(query.workspace ? { workspace: query.workspace } : {}), ...(query.session ? { session: query.session } : {}), keep: query.keep === '1' });
    return 'written';
  };
  const summary = 'Model Context Protocol (streamable HTTP): the workstation, browser and session tools for an MCP client.';
  return [
    route({ method: 'POST', path: '/mcp', summary, query: mcpQuery, streams: true, handler }),
    route({ method: 'GET', path: '/mcp', summary, query: mcpQuery, streams: true, handler }),
    route({ method: 'DELETE', path: '/mcp', summary, query: mcpQuery, handler }),
  ];
}
