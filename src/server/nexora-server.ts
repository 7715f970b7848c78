import { randomBytes } from 'node:crypto';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildId, NEXORA_VERSION } from '../client/version.js';
import { checkWorkspace } from '../config/workspace-guard.js';
import { describeError, NexoraError } from '../errors.js';
import { channelIdleMs, LiveSessions } from '../live/live-sessions.js';
import { nexoraPaths, type NexoraPaths } from '../paths.js';
import { MasterKeyStore, ProviderKeyStore } from '../secrets/index.js';
import { AdmissionQueue } from '../sessions/admission-queue.js';
import { HealthMonitor } from '../sessions/health-monitor.js';
import { openSessionManager, type OpenedSessionManager, type OpenSessionManagerOptions } from '../sessions/open-session-manager.js';
import { PoolKeeper } from '../sessions/pool-keeper.js';
import { loadSessionConfig } from '../sessions/session-config.js';
import { openDatabase, parseSessionId, type Db, type SessionId } from '../store/index.js';
import { CdpProxy } from '../tools/browser/cdp-proxy.js';
import { connectTools } from '../tools/connect-tools.js';
import type { ViewerServer } from '../viewer/viewer-server.js';
import { bearerAuth, createApiHandler } from './api-http.js';
import type { ApiRoute } from './api-route.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { RunRegistry } from './run-registry.js';
import { securePrivateHome } from '../client/private-dirs.js';
import { engineSettings, serverFiles, storeFingerprint, type ServerFiles } from '../client/server-files.js';
import type { ServerLog } from './server-log.js';
import { collectReleasedBuffers } from './server-memory.js';
import { listenOnPrivateSocket } from './socket-listener.js';

export interface NexoraServerOptions {
  env?: NodeJS.ProcessEnv;
  log: ServerLog;
  /** The API it serves (`apiRoutes`): given by the caller, so the routes can build on the server without a circle. */
  routes: (server: NexoraServer) => ApiRoute[];
  /** Also listen on 127.0.0.1:<port> (0: any free port), with a bearer token. */
  tcpPort?: number;
  /** How often the warm pool is looked at. */
  poolIntervalMs?: number;
  /** Passed to the session manager (tests scope containers with their own labels and names). */
  sessionOptions?: Omit<OpenSessionManagerOptions, 'db' | 'env'>;
}

/** What the server runs once Docker answers: sessions, the pool, the health monitor. */
export interface SessionRuntime extends OpenedSessionManager {
  pool: PoolKeeper;
  health: HealthMonitor;
}

/**
 * `nexora serve`: the one long-lived process of a Nexora home. It owns the store, the
 * session manager (started once Docker answers), the admission queue, the warm pool, the
 * health monitor, each session's tool channels, the agent runs and the web view, and serves
 * them on a Unix socket (and on 127.0.0.1 with a token when asked).
 */
export class NexoraServer {
  readonly paths: NexoraPaths;
  readonly files: ServerFiles;
  readonly log: ServerLog;
  readonly db: Db;
  readonly keys: ProviderKeyStore;
  readonly admission: AdmissionQueue;
  /** Every active session's live object: shared tool channels behind one input gate. */
  readonly live: LiveSessions;
  readonly runs: RunRegistry;
  readonly startedAt = new Date();
  /** RSS once the store is open and the server listens (`nexora server status` compares with it). */
  readyRssBytes = 0;
  readonly version = NEXORA_VERSION;
  readonly build = buildId();
  /** The engine and backend settings it was started with: a command naming others is refused. */
  readonly engine: Record<string, string | null>;
  /** Which store this server holds (compared by clients with their own environment's). */
  readonly storeFingerprint: string;
  tcpPort: number | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly options: NexoraServerOptions;
  private readonly lock: InstanceLock;
  private readonly servers: Server[] = [];
  private runtime: Promise<SessionRuntime> | undefined;
  private viewer: Promise<ViewerServer> | undefined;
  /** Each session's DevTools proxy, while a person has asked for it (`nexora session devtools`). */
  private readonly devtools = new Map<SessionId, Promise<CdpProxy>>();
  private channelSweep: NodeJS.Timeout | undefined;
  private homeWatch: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** Resolves when the server has shut down (SIGTERM, `server stop`, or its home removed). */
  readonly closed: Promise<void>;
  private resolveClosed: () => void = () => undefined;

  private constructor(options: NexoraServerOptions, lock: InstanceLock, db: Db) {
    this.options = options;
    this.env = options.env ?? process.env;
    this.engine = engineSettings(this.env);
    this.paths = nexoraPaths(this.env);
    this.files = serverFiles(this.paths, this.env);
    this.storeFingerprint = storeFingerprint(this.env, this.paths);
    this.log = options.log;
    this.lock = lock;
    this.db = db;
    this.keys = new ProviderKeyStore({ db, masterKeys: new MasterKeyStore(this.paths) });
    const { startConcurrency } = loadSessionConfig(this.env);
    this.admission = new AdmissionQueue(startConcurrency !== undefined ? { limit: startConcurrency } : {});
    this.runs = new RunRegistry();
    this.live = new LiveSessions({
      open: async (sessionId) => connectTools(await (await this.sessions()).manager.workstation(sessionId)),
      idleMs: channelIdleMs(this.env),
      inUse: (sessionId) => this.runs.list().some((run) => run.sessionId === sessionId),
    });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Takes the home's server lock, opens the store and starts listening. */
  static async open(options: NexoraServerOptions): Promise<NexoraServer> {
    const env = options.env ?? process.env;
    const paths = nexoraPaths(env);
    securePrivateHome(paths.home, { create: true });
    const lock = acquireInstanceLock(serverFiles(paths, env).lock);
    let db: Db | undefined;
    try {
      // Validated before anything is opened: a bad setting fails the start with its name.
      loadSessionConfig(env);
      db = await openDatabase({ env, waitMs: 10_000 });
      const server = new NexoraServer(options, lock, db);
      await server.listen();
      server.readyRssBytes = process.memoryUsage().rss;
      server.startBackground();
      return server;
    } catch (error) {
      await db?.close().catch(() => undefined);
      lock.release();
      throw error;
    }
  }

  /** The session runtime, opened on first need (Docker may come up after the server). */
  sessions(): Promise<SessionRuntime> {
    this.runtime ??= this.openRuntime().catch((error: unknown) => {
      this.runtime = undefined;
      throw error;
    });
    return this.runtime;
  }

  /**
   * A workspace a client asked for, refused when it exposes the host (its root, the home
   * directory, the Nexora home, the Docker socket, ~/.ssh, system directories): the server
   * enforces this, whatever the client checked. Returns the real path.
   */
  workspace(dir: string): string {
    return checkWorkspace(dir, { env: this.env });
  }

  /**
   * The environment a client's request runs with: the server's, overlaid with what the client
   * sent (the CLI sends its whole environment: provider keys named by apiKeyEnv, settings),
   * always in this server's home — a request cannot point the server at another home's config
   * or keys.
   */
  clientEnv(sent: Record<string, string> | undefined): NodeJS.ProcessEnv {
    return { ...this.env, ...sent, NEXORA_HOME: this.paths.home };
  }

  /** The web view, started on first request, on 127.0.0.1 with its own token. */
  async webView(): Promise<ViewerServer> {
    this.viewer ??= (async () => {
      const runtime = await this.sessions();
      const { startViewerServer } = await import('../viewer/viewer-server.js');
      const { sessionViewerBackend } = await import('../viewer/session-backend.js');
      const { loadConfig } = await import('../config/load-config.js');
      // The user's own config only: whether typed text is stored is not a workspace's choice.
      const { config } = await loadConfig({ env: this.env });
      // Questions of runs whose client asks the person can be answered in the page too: first answer wins.
      const approvals = {
        pending: (sessionId: string) => this.runs.pendingFor(sessionId).map(({ runId: _runId, ...question }) => question),
        answer: (sessionId: string, approvalId: string, decision: { approved: true } | { approved: false; reason: string }) => this.runs.answerForSession(sessionId, approvalId, decision),
      };
      return startViewerServer({
        backend: sessionViewerBackend(runtime.manager, { screenshotsRoot: this.paths.screenshots, approvals }),
        // The page's take-over is the live session's gate, which every other door waits at.
        gateFor: (sessionId) => this.live.session(parseSessionId(sessionId)).gate,
        recordTypedText: config.viewer.recordTypedText,
      });
    })().catch((error: unknown) => {
      this.viewer = undefined;
      throw error;
    });
    return this.viewer;
  }

  /**
   * Serves a session's DevTools on 127.0.0.1 behind a fresh token (on the session's reserved
   * port when free): Chromium is started when it is not running. One proxy per session.
   */
  openDevtools(sessionId: SessionId): Promise<CdpProxy> {
    const existing = this.devtools.get(sessionId);
    if (existing) return existing;
    const opening = (async () => {
      const runtime = await this.sessions();
      const workstation = await runtime.manager.workstation(sessionId);
      const port = (await runtime.manager.getContainer(sessionId))?.cdpPort ?? 0;
      const endpoint = await workstation.ensureBrowser({ timeoutMs: 60_000 });
      const openStream = (): ReturnType<typeof workstation.attach> => workstation.attach({ cmd: ['socat', 'STDIO', `TCP:127.0.0.1:${endpoint.port}`], cwd: '/' });
      return CdpProxy.start({ openStream, port }).catch(() => CdpProxy.start({ openStream }));
    })();
    this.devtools.set(sessionId, opening);
    opening.catch(() => {
      if (this.devtools.get(sessionId) === opening) this.devtools.delete(sessionId);
    });
    return opening;
  }

  /** The session's DevTools proxy when one is served. */
  async servedDevtools(sessionId: SessionId): Promise<CdpProxy | undefined> {
    return this.devtools.get(sessionId)?.catch(() => undefined);
  }

  /** Stops serving a session's DevTools; true when it was served. */
  closeDevtools(sessionId: SessionId): boolean {
    const proxy = this.devtools.get(sessionId);
    this.devtools.delete(sessionId);
    void proxy?.then((served) => served.close()).catch(() => undefined);
    return proxy !== undefined;
  }

  /** Stops serving: runs interrupted, channels and store closed; sessions keep running unless asked. */
  close(options: { stopSessions?: boolean; reason?: string } = {}): Promise<void> {
    this.closing ??= this.shutDown(options);
    return this.closing;
  }

  private async shutDown(options: { stopSessions?: boolean; reason?: string }): Promise<void> {
    this.log.info(`shutting down (${options.reason ?? 'asked'})${options.stopSessions ? ', ending every session' : ', sessions keep running'}`);
    if (this.channelSweep) clearInterval(this.channelSweep);
    if (this.homeWatch) clearInterval(this.homeWatch);
    for (const server of this.servers) server.close();
    await this.runs.interruptAll();
    this.live.closeAll();
    for (const sessionId of [...this.devtools.keys()]) this.closeDevtools(sessionId);
    const viewer = await this.viewer?.catch(() => undefined);
    await viewer?.close().catch(() => undefined);
    const runtime = await this.runtime?.catch(() => undefined);
    if (runtime) {
      await runtime.pool.stop();
      await runtime.health.stop();
      await runtime.manager.closeGitGuards();
      if (options.stopSessions) {
        for (const { session } of await runtime.manager.list().catch(() => [])) {
          await runtime.manager.stopContainer(session.id, { reason: 'server stopped' }).catch((error: unknown) => this.log.error(`stopping ${session.id}: ${describeError(error)}`));
        }
      }
      await runtime.close();
    }
    for (const server of this.servers) server.closeAllConnections();
    await this.db.close().catch((error: unknown) => this.log.error(`closing the store: ${describeError(error)}`));
    if (existsSync(this.files.socket)) unlinkSync(this.files.socket);
    this.lock.release();
    this.log.info('stopped');
    this.resolveClosed();
  }

  private async openRuntime(): Promise<SessionRuntime> {
    const redact = await this.keys.liveRedactor();
    const opened = await openSessionManager({ ...this.options.sessionOptions, env: this.env, db: this.db, redact });
    const report = await opened.manager.reconcile();
    const changed = Object.entries(report).filter(([key, list]) => key !== 'adoptedSessions' && (list as unknown[]).length > 0);
    this.log.info(`sessions reconciled: ${report.adoptedSessions.length} adopted${changed.map(([key, list]) => `, ${key} ${(list as unknown[]).length}`).join('')}`);
    const health = new HealthMonitor(opened.manager, {
      policy: opened.config.healthPolicy,
      onIncident: (incident) => {
        this.log.info(`health: ${incident.sessionId} ${incident.problem} → ${incident.action}${incident.detail ? ` (${incident.detail})` : ''}`);
        // A restarted workstation is a new container (on a swarm, maybe on another node, the old
        // one still up on its lost node): channels opened before must not reach the old one.
        if (incident.action === 'restarted') this.closeChannels(incident.sessionId as SessionId);
      },
    });
    health.start();
    const pool = new PoolKeeper({
      pool: opened.manager.pool,
      admission: this.admission,
      ...(this.options.poolIntervalMs !== undefined ? { intervalMs: this.options.poolIntervalMs } : {}),
      log: (line) => this.log.info(line),
    });
    pool.start();
    this.log.info(`sessions ready: Docker answers, image ${opened.manager.backend.image}, ${this.admission.limit} start(s) at once`);
    return { ...opened, pool, health };
  }

  private startBackground(): void {
    // Warm the session runtime now so the first command does not wait for Docker and reconciliation.
    this.sessions().catch((error: unknown) => this.log.error(`sessions not available yet: ${describeError(error)}`));
    // Channels of sessions that ended by other paths (a run's end, the health monitor) are closed.
    this.channelSweep = setInterval(() => void this.sweepChannels(), 5000);
    this.channelSweep.unref();
    // A home deleted under a running server (a test's temporary directory) ends it.
    this.homeWatch = setInterval(() => {
      if (!existsSync(this.paths.home)) void this.close({ reason: 'its Nexora home was removed' });
    }, 2000);
    this.homeWatch.unref();
  }

  private async sweepChannels(): Promise<void> {
    const runtime = await this.runtime?.catch(() => undefined);
    if (!runtime) return;
    // Parked sessions whose keep-until time is up are stopped (the normal stop, git check included).
    const expired = await runtime.manager.stopExpired({ onError: (sessionId, error) => this.log.error(`stopping parked session ${sessionId}: ${describeError(error)}`) }).catch(() => []);
    for (const sessionId of expired) this.log.info(`stopped session ${sessionId}: kept idle past its time`);
    const released = this.live.releaseIdle();
    for (const sessionId of released) this.log.info(`closed the idle tool channels of ${sessionId}`);
    // Once their sockets have closed, nothing references the buffers any more.
    if (released.length > 0) setTimeout(collectReleasedBuffers, 1000).unref();
    // One look per session that holds channels or a DevTools proxy; closeChannels ends both.
    for (const sessionId of new Set([...this.live.sessions(), ...this.devtools.keys()])) {
      const session = await runtime.manager.sessions.find(sessionId).catch(() => undefined);
      if (session?.status !== 'active') {
        this.closeChannels(sessionId);
        this.live.end(sessionId);
      }
    }
  }

  /** Ends a session's channels before it is stopped (the stop routes call this). */
  closeChannels(sessionId: SessionId): void {
    this.live.close(sessionId);
    this.closeDevtools(sessionId);
  }

  private async listen(): Promise<void> {
    const routes = this.options.routes(this);
    const onError = (error: unknown): void => this.log.error(`request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const local = createServer(createApiHandler({ routes, onError }));
    await listenOnPrivateSocket(local, this.files);
    this.servers.push(local);
    if (this.options.tcpPort !== undefined) {
      const token = randomBytes(24).toString('base64url');
      writeFileSync(this.files.token, `${token}\n`, { mode: 0o600 });
      const remote = createServer(createApiHandler({ routes, onError, auth: bearerAuth({ token, port: () => this.tcpPort ?? 0 }) }));
      await listenOn(remote, { port: this.options.tcpPort, host: '127.0.0.1' });
      this.tcpPort = (remote.address() as AddressInfo).port;
      this.servers.push(remote);
    }
    this.log.info(`listening on ${this.files.socket}${this.tcpPort !== undefined ? ` and http://127.0.0.1:${this.tcpPort} (token in ${this.files.token})` : ''}; store: ${this.db.kind} at ${this.db.location}; pid ${process.pid}`);
  }
}

function listenOn(server: Server, where: { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new NexoraError('server-unavailable', `The server could not listen on ${where.host}:${where.port}: ${describeError(error)}.`, { cause: error })));
    server.listen(where, () => resolve());
  });
}
