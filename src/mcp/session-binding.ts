import type { GitReport } from '../client/api-schemas.js';
import { NexoraError } from '../errors.js';
import type { SessionsApi } from './sessions-api.js';
import type { Session } from '../sdk/session.js';

export interface SessionBindingOptions {
  nexora: { sessions: SessionsApi };
  /** The workspace of a session this client starts without naming one (flag, client roots, cwd). */
  workspace: () => Promise<string>;
  /** Attach to this session instead of starting one (never stopped by this client). */
  sessionId?: string;
  /** Leave the sessions this client started running when it disconnects. */
  keep?: boolean;
  log: (line: string) => void;
}

/**
 * Which session one MCP client drives. By default its own, started on the first tool call
 * that needs one and stopped when the client goes away; or a named one it attaches to.
 *
 * It is also the connection's scope: an MCP client is a model on someone's behalf, and it sees,
 * reads, drives and stops only the sessions it started and the one it was given (`--session`,
 * `?session=`). Every other session of the server answers as if it did not exist.
 */
export class SessionBinding {
  private readonly options: SessionBindingOptions;
  private current: Promise<Session> | undefined;
  /** Sessions this client started: stopped on close unless `keep`. */
  private readonly owned = new Map<string, Session>();
  /** Every session this connection may see: the attached one and each it ever started. */
  private readonly scope = new Set<string>();
  private closed = false;

  constructor(options: SessionBindingOptions) {
    this.options = options;
    if (options.sessionId) this.scope.add(options.sessionId);
  }

  /** Whether this connection may see and act on a session. */
  inScope(sessionId: string): boolean {
    return this.scope.has(sessionId);
  }

  /** A session of this connection's scope; any other is refused as not found (its existence is not told). */
  get(sessionId: string, options: { signal?: AbortSignal } = {}): Promise<Session> {
    if (!this.inScope(sessionId)) return Promise.reject(outOfScope(sessionId));
    return this.options.nexora.sessions.get(sessionId, options);
  }

  /** The id of the session tools act on, when there is one yet. */
  async currentId(): Promise<string | undefined> {
    return (await this.current?.catch(() => undefined))?.id;
  }

  /** The session tools act on: the attached one, or this client's own (started now if needed). */
  session(options: { signal?: AbortSignal } = {}): Promise<Session> {
    if (this.closed) return Promise.reject(new NexoraError('aborted', 'This MCP connection is closing.'));
    this.current ??= (this.options.sessionId
      ? this.options.nexora.sessions.get(this.options.sessionId, options)
      : this.startOwn({ ...options })
    ).catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    return this.current;
  }

  /** Starts a new session for this client (the tools act on it from now on). */
  async start(options: { workspace?: string; signal?: AbortSignal } = {}): Promise<Session> {
    const started = this.startOwn(options);
    this.current = started;
    try {
      return await started;
    } catch (error) {
      if (this.current === started) this.current = undefined;
      throw error;
    }
  }

  /** Stops a session (default: the current one); the next tool call starts a new one. Returns what the stop reported. */
  async stop(options: { sessionId?: string; signal?: AbortSignal } = {}): Promise<{ sessionId: string; git: GitReport | null }> {
    const current = await this.currentId();
    const sessionId = options.sessionId ?? current;
    if (!sessionId) throw new NexoraError('session-not-found', 'This client has no session yet: nothing to stop.');
    const session = await this.get(sessionId, options.signal ? { signal: options.signal } : {});
    const stopped = await session.stop({ reason: 'stopped by an MCP client', ...(options.signal ? { signal: options.signal } : {}) });
    this.owned.delete(sessionId);
    if (sessionId === current) this.current = undefined;
    return { sessionId, git: stopped.git };
  }

  /** The client went away: its own sessions stop (unless `keep`); an attached one keeps running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A start under way still counts: wait for it so its session is not left behind.
    await this.current?.catch(() => undefined);
    if (this.options.keep) {
      if (this.owned.size > 0) this.options.log(`keeping session(s) ${[...this.owned.keys()].join(', ')} (--keep)`);
      return;
    }
    // One request each, sent at once: the server finishes a stop it received even if this
    // process is killed right after (a client that closes stdio soon sends SIGTERM, then SIGKILL).
    await Promise.all(
      [...this.owned].map(async ([sessionId, session]) => {
        try {
          const stopped = await session.stop({ reason: 'its MCP client disconnected', timeoutMs: 120_000 });
          const moved = stopped.git?.neutralised.length ?? 0;
          this.options.log(`session ${sessionId} stopped (client disconnected)${moved > 0 ? `; git metadata moved aside: ${moved} (see the session's git-metadata-changed event)` : ''}`);
        } catch (error) {
          this.options.log(`stopping session ${sessionId}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
  }

  private async startOwn(options: { workspace?: string; signal?: AbortSignal }): Promise<Session> {
    const workspace = options.workspace ?? (await this.options.workspace());
    const session = await this.options.nexora.sessions.start({ workspace, ...(options.signal ? { signal: options.signal } : {}) });
    this.owned.set(session.id, session);
    this.scope.add(session.id);
    this.options.log(`session ${session.id} started for ${workspace}`);
    // A client that left while its session was starting: the close above waits for this promise.
    return session;
  }
}

function outOfScope(sessionId: string): NexoraError {
  return new NexoraError('session-not-found', `No session ${sessionId.slice(0, 80)} in this MCP connection: it sees only the sessions it started or was given (nexora mcp --session ID).`);
}
