import { environmentOf } from '../client/client-env.js';
import { connectToServer } from '../client/ensure-server.js';
import { NexoraClient, type ServerAddress } from '../client/nexora-client.js';
import { NexoraError } from '../errors.js';
import type { SessionInfo } from './api-types.js';
import { requestOptions, type CallOptions } from './call-options.js';
import { Run, type RunStartOptions } from './runs.js';
import { Session } from './session.js';

export interface ConnectOptions extends CallOptions {
  /** The environment that names the Nexora home (NEXORA_HOME) and the server's settings. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** A server on 127.0.0.1 (`nexora serve --port`) with its token, instead of the home's Unix socket. */
  address?: ServerAddress;
  /** Start a server in the background when none answers (default true). */
  autoStart?: boolean;
}

export interface SessionStartOptions extends CallOptions {
  /** The project directory to mount at /workspace (absolute; the server refuses the home directory, `/`, …). */
  workspace: string;
  /** Claim a pre-started workstation from the warm pool when there is one (default true). */
  usePool?: boolean;
  /** Start Chromium with the workstation instead of on the first browser call. */
  startChromium?: boolean;
}

/** `nx.sessions`: start, list and find sessions. */
export class Sessions {
  private readonly client: NexoraClient;

  constructor(client: NexoraClient) {
    this.client = client;
  }

  /** Starts a session (from the warm pool when it has one). Default deadline 300 s: a cold start may queue. */
  async start(options: SessionStartOptions): Promise<Session> {
    if (typeof options?.workspace !== 'string' || !options.workspace.startsWith('/')) {
      throw new NexoraError('invalid-argument', `sessions.start needs { workspace: '/absolute/path' }, got ${JSON.stringify(options?.workspace)}.`);
    }
    const body = {
      workspaceDir: options.workspace,
      ...(options.usePool !== undefined ? { usePool: options.usePool } : {}),
      ...(options.startChromium ? { startChromium: true } : {}),
    };
    const started = await this.client.post<{ session: { id: string } }>('/v1/sessions', body, requestOptions(options, 300_000));
    return new Session({ client: this.client, id: started.session.id });
  }

  /** The sessions, newest first (only running ones unless `all`). Default deadline 30 s. */
  async list(options: CallOptions & { all?: boolean } = {}): Promise<SessionInfo[]> {
    return (await this.client.get<{ sessions: SessionInfo[] }>(`/v1/sessions${options.all ? '?all=1' : ''}`, requestOptions(options, 30_000))).sessions;
  }

  /** A session by id; fails with `session-not-found` when there is none. Default deadline 30 s. */
  async get(id: string, options?: CallOptions): Promise<Session> {
    const session = new Session({ client: this.client, id });
    await session.info(options);
    return session;
  }
}

/** `nx.runs`: the agent, run by the server. */
export class Runs {
  private readonly client: NexoraClient;
  private readonly env: NodeJS.ProcessEnv;

  constructor(client: NexoraClient, env: NodeJS.ProcessEnv = process.env) {
    this.client = client;
    this.env = env;
  }

  /** Starts a run; iterate it for its events or await `run.done`. `timeoutMs` bounds the whole run (default none). */
  start(options: RunStartOptions): Run {
    const { signal, timeoutMs, ...rest } = options;
    // As `nexora run` does: the run reads provider keys (and the home) from the caller's environment.
    const env = { ...environmentOf(this.env), ...rest.env };
    return new Run({ client: this.client, body: { ...rest, env }, ...(signal ? { signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }
}

/**
 * The Nexora SDK: `const nx = await Nexora.connect()` finds the home's server (starting it when
 * none runs), then `nx.sessions.start({ workspace })` gives a workstation to drive.
 */
export class Nexora {
  readonly sessions: Sessions;
  readonly runs: Runs;
  /** The server's version and build. */
  readonly server: { version: string; build: string; pid: number };
  private readonly client: NexoraClient;

  private constructor(client: NexoraClient, server: { version: string; build: string; pid: number }, env: NodeJS.ProcessEnv | undefined) {
    this.client = client;
    this.server = server;
    this.sessions = new Sessions(client);
    this.runs = new Runs(client, env);
  }

  /** Connects to the server: the home's (started when none answers), or one at `address`. Default deadline 300 s. */
  static async connect(options: ConnectOptions = {}): Promise<Nexora> {
    if (options.address) {
      const client = new NexoraClient(options.address);
      try {
        const health = await client.get<{ version: string; build: string; pid: number }>('/v1/health', requestOptions(options, 30_000));
        return new Nexora(client, { version: health.version, build: health.build, pid: health.pid }, options.env);
      } catch (error) {
        client.close();
        throw error;
      }
    }
    options.signal?.throwIfAborted();
    const connected = await connectToServer({
      ...(options.env ? { env: options.env } : {}),
      ...(options.autoStart !== undefined ? { autoStart: options.autoStart } : {}),
      ...(options.timeoutMs !== undefined ? { startTimeoutMs: options.timeoutMs } : {}),
    });
    const { version, build, pid } = connected.health;
    return new Nexora(connected.client, { version, build, pid }, options.env);
  }

  /** Closes the connection (sessions keep running: stop them first if they should not). */
  close(): void {
    this.client.close();
  }
}
