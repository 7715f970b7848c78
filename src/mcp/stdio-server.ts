import type { ApprovalMode } from '../agent/approval-mode.js';
import { Nexora } from '../sdk/nexora.js';
import { createNexoraMcp } from './nexora-mcp-server.js';
import type { SessionsApi } from './sessions-api.js';
import { BoundedStdioTransport } from './stdio-transport.js';

export interface StdioMcpOptions {
  env?: NodeJS.ProcessEnv;
  /** The workspace of this client's session (default: the client's roots, else `cwd`). */
  workspace?: string;
  cwd: string;
  /** Attach to this session instead of starting one. */
  sessionId?: string;
  keep?: boolean;
  /** The approval policy for the calls of the client's model. */
  approve?: ApprovalMode;
  /** Where logs go: never stdout, which carries the protocol only. */
  log: (line: string) => void;
}

/**
 * `nexora mcp`: an MCP server on stdin/stdout for the agent that launched it, a client of
 * the home's Nexora server (started in the background when none runs). Resolves once the
 * client has disconnected and its session has been stopped.
 */
export async function runStdioMcp(options: StdioMcpOptions): Promise<void> {
  // The Nexora server is reached on the first tool call, not before `initialize`: the client
  // gets its answer and the tool list at once (a first server start can take a minute), and
  // a server that cannot start is a tool error the model can report, not a dead MCP server.
  let connecting: Promise<Nexora> | undefined;
  const nexora = (): Promise<Nexora> =>
    (connecting ??= Nexora.connect({ ...(options.env ? { env: options.env } : {}) }).then(
      (connected) => {
        options.log(`connected to the Nexora server ${connected.server.version} (pid ${connected.server.pid})`);
        return connected;
      },
      (error: unknown) => {
        connecting = undefined;
        throw error;
      },
    ));
  const sessions: SessionsApi = {
    start: async (start) => (await nexora()).sessions.start(start),
    list: async (list) => (await nexora()).sessions.list(list),
    get: async (id, get) => (await nexora()).sessions.get(id, get),
  };
  const { mcp, binding } = createNexoraMcp({
    nexora: { sessions },
    ...(options.workspace ? { workspace: options.workspace } : {}),
    fallbackWorkspace: options.cwd,
    ...(options.sessionId ? { sessionId: options.sessionId } : {}),
    ...(options.keep ? { keep: true } : {}),
    ...(options.approve ? { approve: options.approve } : {}),
    log: options.log,
  });
  const transport = new BoundedStdioTransport();
  transport.onerror = (error) => options.log(`stdio: ${error.message}`);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The client closing our stdin is how it disconnects; the transport does not see EOF by itself.
    process.stdin.once('end', () => resolve());
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await mcp.connect(transport);
  options.log('ready on stdio');
  await closed;
  await binding.close();
  await mcp.close().catch(() => undefined);
  (await connecting?.catch(() => undefined))?.close();
}
