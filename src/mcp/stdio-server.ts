import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Nexora } from '../sdk/nexora.js';
import { createNexoraMcp } from './nexora-mcp-server.js';

export interface StdioMcpOptions {
  env?: NodeJS.ProcessEnv;
  /** The workspace of this client's session (default: the client's roots, else `cwd`). */
  workspace?: string;
  cwd: string;
  /** Attach to this session instead of starting one. */
  sessionId?: string;
  keep?: boolean;
  /** Where logs go: never stdout, which carries the protocol only. */
  log: (line: string) => void;
}

/**
 * `nexora mcp`: an MCP server on stdin/stdout for the agent that launched it, a client of
 * the home's Nexora server (started in the background when none runs). Resolves once the
 * client has disconnected and its session has been stopped.
 */
export async function runStdioMcp(options: StdioMcpOptions): Promise<void> {
  const nexora = await Nexora.connect({ ...(options.env ? { env: options.env } : {}) });
  const { mcp, binding } = createNexoraMcp({
    nexora,
    ...(options.workspace ? { workspace: options.workspace } : {}),
    fallbackWorkspace: options.cwd,
    ...(options.sessionId ? { sessionId: options.sessionId } : {}),
    ...(options.keep ? { keep: true } : {}),
    log: options.log,
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The client closing our stdin is how it disconnects; the transport does not see EOF by itself.
    process.stdin.once('end', () => resolve());
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await mcp.connect(transport);
  options.log(`nexora mcp ready (server ${nexora.server.version}, pid ${nexora.server.pid})`);
  await closed;
  await binding.close();
  await mcp.close().catch(() => undefined);
  nexora.close();
}
