import { performance } from 'node:perf_hooks';
import { checkWorkspace } from '../config/workspace-guard.js';
import { NexoraError, describeError } from '../errors.js';
// The same context the key rotation re-seals with: one definition, so they cannot drift.
import { vncPasswordContext } from '../secrets/index.js';
import type {
  PortAllocator} from '../store/index.js';
import {
  EventStore,
  SessionStore,
  newSessionId,
  releasePorts,
  type Db,
  type SessionId,
  type SessionRecord,
} from '../store/index.js';
import type { ManagedContainer, WorkstationBackend } from '../workstation/backend.js';
import type { Workstation } from '../workstation/workstation.js';
import { LABELS, type ContainerOwner } from '../workstation/labels.js';
import { workspaceOwner, type NumericUser } from '../workstation/workspace-owner.js';
import { toInfo, type ContainerInfo } from './container-info.js';
import { reconcile, type ReconcileOptions, type ReconcileReport } from './reconcile.js';
import { claimFromPool } from './warm-pool.js';
import { getExtras, setOwner } from './session-extras.js';
import { newVncPassword, storeVncPassword, type PasswordSealer } from './vnc-password.js';
import type { GitBaselines, GitChangesReport } from './git-baselines.js';

export type { PasswordSealer } from './vnc-password.js';

export interface SessionManagerOptions {
  db: Db;
  backend: WorkstationBackend;
  ports: PortAllocator;
  sealer: PasswordSealer;
  /** This process, as recorded on sessions it is starting or stopping. */
  owner: ContainerOwner;
  /** How long a cold start may take before it is undone. Default 60 s. */
  startTimeoutMs?: number;
  /** Values for the session record when the caller gives none. */
  defaults?: { userId?: string; model?: string; provider?: string };
  /** Records each session's workspace git metadata at its start, to report changes at its end. */
  gitBaselines?: GitBaselines;
}

export interface StartOptions {
  workspaceDir: string;
  /** A session id to use (a new one otherwise); a session created beforehand must be `starting`. */
  sessionId?: SessionId;
  /** The user the workstation runs as; default: the workspace directory's owner. */
  user?: NumericUser;
  /** Start Chromium now instead of on first use. */
  startChromium?: boolean;
  userId?: string;
  model?: string;
  provider?: string;
  signal?: AbortSignal;
  /** Called as each step begins, for progress lines. */
  onProgress?: (step: string) => void;
}

export interface StartedSession {
  session: SessionRecord;
  info: ContainerInfo;
  workstation: Workstation;
  /** True when a warm-pool workstation was claimed. */
  fromPool: boolean;
  durationMs: number;
}

export interface SessionSummary {
  session: SessionRecord;
  container: ManagedContainer | undefined;
}

/**
 * Sessions and their workstations: start (ports, container, readiness, each step an event,
 * everything undone on failure), stop, get, list, resume. Orphan clean-up, the health
 * monitor and the warm pool build on it.
 */
export class SessionManager {
  readonly db: Db;
  readonly backend: WorkstationBackend;
  readonly ports: PortAllocator;
  readonly sessions: SessionStore;
  readonly events: EventStore;
  readonly owner: ContainerOwner;
  private readonly sealer: PasswordSealer;
  private readonly startTimeoutMs: number;
  private readonly defaults: { userId: string; model: string; provider: string };
  private readonly resuming = new Map<string, Promise<StartedSession>>();
  private readonly gitBaselines: GitBaselines | undefined;

  constructor(options: SessionManagerOptions) {
    this.db = options.db;
    this.backend = options.backend;
    this.ports = options.ports;
    this.sealer = options.sealer;
    this.owner = options.owner;
    this.sessions = new SessionStore(options.db);
    this.events = new EventStore(options.db);
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.gitBaselines = options.gitBaselines;
    this.defaults = {
      userId: options.defaults?.userId ?? 'local',
      model: options.defaults?.model ?? 'none',
      provider: options.defaults?.provider ?? 'none',
    };
  }

  /**
   * Starts a session, from the warm pool when it has a workstation for this workspace (well
   * under the cold-start time), else cold.
   */
  async start(options: StartOptions & { usePool?: boolean }): Promise<StartedSession> {
    // Before the pool is asked: a member warmed for an unsafe directory must not be handed out either.
    checkWorkspace(options.workspaceDir);
    const startedAt = new Date();
    let started: StartedSession | undefined;
    if (options.usePool !== false && !options.sessionId) {
      options.onProgress?.('claiming a warm workstation');
      started = await claimFromPool(this, options);
    }
    started ??= await this.startCold(options);
    // Taken in the background, as of the moment the start began (see GitBaselines.save).
    this.recordGitBaseline(started.session.id, started.session.workspaceDir, startedAt);
    return started;
  }

  /**
   * What the session changed in the workspace's git metadata (hooks, config, new repositories…)
   * since it started; undefined when there is no baseline for it.
   */
  async gitChanges(sessionId: SessionId, options: { signal?: AbortSignal } = {}): Promise<GitChangesReport | undefined> {
    const session = await this.sessions.get(sessionId);
    if (!this.gitBaselines || !session.workspaceDir) return undefined;
    return this.gitBaselines.changes(sessionId, session.workspaceDir, options);
  }

  private recordGitBaseline(sessionId: SessionId, workspaceDir: string | null, startedAt: Date): void {
    if (!this.gitBaselines || !workspaceDir) return;
    void this.gitBaselines.save(sessionId, workspaceDir, { startedAt }).then(async (problem) => {
      if (problem) await this.events.record({ sessionId, kind: 'git-baseline-failed', payload: { error: problem } }).catch(() => undefined);
    });
  }

  /** Makes the store and the engine agree (see reconcile.ts). */
  reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    return reconcile(this, options);
  }

  /** The seed's CleanupOrphaned: reconciles and returns the names of the containers it removed. */
  async cleanupOrphaned(options: ReconcileOptions = {}): Promise<string[]> {
    return (await reconcile(this, options)).removedContainers;
  }

  /** The seed's StartContainer: a cold start of a workstation for `sessionId`. */
  async startContainer(sessionId: SessionId, workspaceDir: string, options: { signal?: AbortSignal } = {}): Promise<ContainerInfo> {
    const started = await this.startCold({ sessionId, workspaceDir, ...options });
    return started.info;
  }

  /**
   * Starts a session: allocates its ports, creates and starts its container, waits until the
   * desktop is ready. Each step is recorded as an event; on any failure everything done so far
   * is undone (container removed, ports released) and the session is marked crashed.
   */
  async startCold(options: StartOptions & { poolKey?: string }): Promise<StartedSession> {
    const begun = performance.now();
    // Every mount of a workspace passes here: refuse ones that expose the host (workspace-guard.ts).
    const workspaceDir = checkWorkspace(options.workspaceDir);
    const user = options.user ?? (await workspaceOwner(workspaceDir));
    await this.backend.checkImage();
    const id = options.sessionId ?? newSessionId();
    const existing = await this.sessions.find(id);
    if (!existing) {
      await this.sessions.create({
        id,
        userId: options.userId ?? this.defaults.userId,
        model: options.model ?? this.defaults.model,
        provider: options.provider ?? this.defaults.provider,
        workspaceDir,
      });
    } else if (existing.status !== 'starting' || existing.containerId) {
      throw new NexoraError(
        'session-invalid-transition',
        `Session ${id} is ${existing.status}${existing.containerId ? ' and has a workstation' : ''}: only a new session can be started. Resume it with \`nexora session resume ${id}\`, or start a new one.`,
      );
    }
    await setOwner(this.db, id, this.owner);
    let containerId: string | undefined;
    try {
      options.onProgress?.('allocating ports');
      const ports = await this.timed(id, 'ports-allocate', () => this.ports.allocate(this.db, id), (pair) => ({ ...pair }));
      const password = newVncPassword();
      await storeVncPassword({ db: this.db, sessions: this.sessions, sealer: this.sealer, sessionId: id, password });
      options.onProgress?.('creating the workstation container');
      const created = await this.timed(
        id,
        'workstation-create',
        () =>
          this.backend.create({
            sessionId: id,
            workspaceDir,
            user,
            vncPort: ports.vncPort,
            cdpPort: ports.cdpPort,
            startTimeoutMs: this.startTimeoutMs,
            ...(options.startChromium !== undefined ? { startChromium: options.startChromium } : {}),
            ...(options.poolKey ? { poolKey: options.poolKey } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          }),
        (result) => ({ containerId: result.id, name: result.name, image: this.backend.image, user: `${user.uid}:${user.gid}`, ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}) }),
      );
      containerId = created.id;
      for (const warning of created.warnings) options.onProgress?.(`warning: ${warning}`);
      await this.sessions.setContainer(id, { containerId, ...ports });
      options.onProgress?.('waiting for the desktop (X, VNC, tmux)');
      await this.timed(id, 'workstation-ready', () =>
        this.backend.waitReady(created.id, {
          vncPort: ports.vncPort,
          vncPassword: password,
          timeoutMs: this.startTimeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      if (!options.poolKey) {
        await this.sessions.transition(id, 'active');
        await setOwner(this.db, id, undefined);
      }
      const session = await this.sessions.get(id);
      // Everything about the container is known here: no inspect round trip.
      const container: ManagedContainer = {
        id: created.id,
        name: created.name,
        state: 'running',
        sessionId: id,
        poolKey: options.poolKey,
        workspaceDir,
        vncPort: ports.vncPort,
        cdpPort: ports.cdpPort,
        owner: this.owner,
        labels: { [LABELS.user]: `${user.uid}:${user.gid}` },
        health: 'starting',
        createdAt: new Date(),
        ...(created.node ? { node: created.node } : {}),
        ...(created.vncHost ? { vncHost: created.vncHost } : {}),
      };
      return {
        session,
        info: toInfo(session, container, true),
        workstation: this.backend.workstation(container, password),
        fromPool: false,
        durationMs: performance.now() - begun,
      };
    } catch (error) {
      await this.undoStart(id, containerId, error);
      throw error;
    }
  }

  /** Removes what a failed start created and marks the session crashed (which frees its ports). */
  private async undoStart(id: SessionId, containerId: string | undefined, error: unknown): Promise<void> {
    const container = containerId ?? (await this.findContainer(id))?.id;
    if (container) {
      await this.timed(id, 'workstation-remove', () => this.backend.remove(container), () => ({ containerId: container, reason: 'start failed' })).catch(() => undefined);
    }
    await this.events
      .record({ sessionId: id, kind: 'session-start-fail', payload: { error: describeError(error), code: NexoraError.is(error) ? error.code : 'unknown' } })
      .catch(() => undefined);
    await this.sessions.transition(id, 'crashed', { reason: `start failed: ${describeError(error)}`.slice(0, 500) }).catch(() => undefined);
    await setOwner(this.db, id, undefined).catch(() => undefined);
  }

  /**
   * The seed's StopContainer: ends a session, removes its workstation and releases its ports.
   * Stopping a session that is already over only removes a container left behind.
   */
  async stopContainer(sessionId: SessionId, options: { reason?: string } = {}): Promise<void> {
    const session = await this.sessions.get(sessionId);
    if (session.status === 'ended' || session.status === 'crashed') {
      const leftover = await this.findContainer(sessionId);
      if (leftover) await this.backend.remove(leftover.id);
      return;
    }
    if (session.status !== 'stopping') await this.sessions.transition(sessionId, 'stopping', options.reason ? { reason: options.reason } : {});
    await setOwner(this.db, sessionId, this.owner);
    const container = await this.findContainer(sessionId, session.containerId);
    if (container) {
      await this.timed(sessionId, 'workstation-remove', async () => {
        // Removed with SIGKILL, without a graceful stop: the workspace is a bind mount whose
        // files are already on disk, and nothing else in the container is worth the wait.
        await this.backend.remove(container.id);
      }, () => ({ containerId: container.id }));
    }
    const released = { vncPort: session.vncPort, cdpPort: session.cdpPort };
    await this.sessions.transition(sessionId, 'ended', { reason: options.reason ?? 'stopped' });
    await this.events.record({ sessionId, kind: 'ports-release', payload: released });
    await setOwner(this.db, sessionId, undefined);
  }

  /** The seed's GetContainer: undefined when the session has no workstation container. */
  async getContainer(sessionId: SessionId): Promise<ContainerInfo | undefined> {
    const session = await this.sessions.get(sessionId);
    const container = await this.findContainer(sessionId, session.containerId);
    if (!container) return undefined;
    // Docker's health flag is not consulted: it lags after an unpause (see the health monitor).
    const ready = session.status === 'active' && container.state === 'running';
    return toInfo(session, container, ready);
  }

  /** The workstation of an active session, for the tools. */
  async workstation(sessionId: SessionId): Promise<Workstation> {
    const session = await this.sessions.get(sessionId);
    if (session.status !== 'active') {
      throw new NexoraError('workstation-not-ready', `Session ${sessionId} is ${session.status}, not active: ${session.status === 'starting' ? 'wait for its start to finish' : `start a new session, or \`nexora session resume ${sessionId}\``}.`);
    }
    const container = await this.requireContainer(session);
    return this.backend.workstation(container, await this.vncPassword(sessionId));
  }

  /** The session's VNC password in the clear (for the RFB client; print it only on request). */
  async vncPassword(sessionId: SessionId): Promise<string> {
    const sealed = await this.sessions.getVncPassword(sessionId);
    if (!sealed) throw new NexoraError('session-not-found', `Session ${sessionId} has no VNC password: it is over.`);
    return this.sealer.open(sealed, vncPasswordContext(sessionId));
  }

  /** Sessions (warm-pool members excluded), newest first, each with its container as the engine sees it. */
  async list(options: { all?: boolean } = {}): Promise<SessionSummary[]> {
    const sessions = await this.sessions.list(options.all ? {} : { statuses: ['starting', 'active', 'stopping'] });
    const poolRows = await this.db.query<{ id: string }>('SELECT id FROM sessions WHERE pool_key IS NOT NULL');
    const pool = new Set(poolRows.map((row) => row.id));
    const containers = await this.backend.list();
    const byId = new Map(containers.map((container) => [container.id, container]));
    const bySession = new Map(containers.map((container) => [container.sessionId, container]));
    return sessions
      .filter((session) => !pool.has(session.id))
      .map((session) => ({
        session,
        container: (session.containerId ? byId.get(session.containerId) : undefined) ?? bySession.get(session.id),
      }));
  }

  /**
   * Reattaches to an active session: returns at once when its container runs, unpauses a
   * paused one, and restarts a stopped one (same container, same workspace, same ports),
   * waiting until the desktop is ready again. The session's history is untouched.
   */
  resume(sessionId: SessionId, options: { signal?: AbortSignal; onProgress?: (step: string) => void } = {}): Promise<StartedSession> {
    // The health monitor, a reconciliation and a user may all resume one session at once:
    // they share one restart rather than race two.
    let pending = this.resuming.get(sessionId);
    if (!pending) {
      pending = this.resumeOnce(sessionId, options).finally(() => this.resuming.delete(sessionId));
      this.resuming.set(sessionId, pending);
    }
    return pending;
  }

  private async resumeOnce(sessionId: SessionId, options: { signal?: AbortSignal; onProgress?: (step: string) => void }): Promise<StartedSession> {
    const begun = performance.now();
    const session = await this.sessions.get(sessionId);
    const extras = await getExtras(this.db, sessionId);
    if (session.status !== 'active' || extras?.poolKey) {
      throw new NexoraError(
        'session-invalid-transition',
        `Session ${sessionId} is ${extras?.poolKey ? 'a warm-pool member' : session.status} and cannot be resumed${session.status === 'ended' || session.status === 'crashed' ? `: start a new session on the same workspace (\`nexora session start --workspace ${session.workspaceDir ?? 'DIR'}\`)` : ''}.`,
      );
    }
    const container = await this.findContainer(sessionId, session.containerId);
    if (!container) {
      await this.sessions.transition(sessionId, 'crashed', { reason: 'its workstation container is gone' });
      throw new NexoraError('session-not-found', `Session ${sessionId}'s workstation container is gone, so it cannot be resumed; it is now marked crashed. Start a new session on the same workspace.`);
    }
    const password = await this.vncPassword(sessionId);
    if (container.state !== 'running') {
      options.onProgress?.(container.state === 'paused' ? 'unpausing the workstation' : 'restarting the workstation');
      await this.timed(sessionId, 'workstation-restart', async () => {
        const signal = options.signal ? { signal: options.signal } : {};
        if (container.state === 'paused') {
          await this.backend.unpause(container.id);
          await this.backend.waitGreeting({ id: container.id, vncPort: container.vncPort, vncPassword: password, timeoutMs: this.startTimeoutMs, ...signal });
          return;
        }
        // The old log stays with the container: wait for a READY beyond the ones in it.
        const skipVerdicts = await this.backend.verdictsSoFar(container.id);
        await this.backend.start(container.id);
        options.onProgress?.('waiting for the desktop (X, VNC, tmux)');
        await this.backend.waitReady(container.id, { vncPort: container.vncPort, vncPassword: password, timeoutMs: this.startTimeoutMs, skipVerdicts, ...signal });
      }, () => ({ containerId: container.id, from: container.state }));
    } else {
      await this.events.record({ sessionId, kind: 'session-reattach', payload: { containerId: container.id } });
    }
    // Sessions started before baselines existed get one now: later changes are still reported.
    if (this.gitBaselines && !(await this.gitBaselines.has(sessionId))) this.recordGitBaseline(sessionId, session.workspaceDir, new Date());
    const fresh = (await this.backend.inspect(container.id)) ?? container;
    return {
      session,
      info: toInfo(session, fresh, true),
      workstation: this.backend.workstation(fresh, password),
      fromPool: false,
      durationMs: performance.now() - begun,
    };
  }

  /** Ends a session (if live) and deletes its record and history. */
  async remove(sessionId: SessionId): Promise<void> {
    await this.stopContainer(sessionId, { reason: 'removed' });
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM events WHERE session_id = $1', [sessionId]);
      await tx.query('DELETE FROM vnc_sessions WHERE session_id = $1', [sessionId]);
      await releasePorts(tx, sessionId);
      await tx.query('DELETE FROM sessions WHERE id = $1', [sessionId]);
    });
    await this.gitBaselines?.remove(sessionId);
  }

  /** A session's container: by the recorded id, else by its session label. */
  async findContainer(sessionId: string, containerId?: string | null): Promise<ManagedContainer | undefined> {
    if (containerId) {
      const byId = await this.backend.inspect(containerId);
      if (byId) return byId;
    }
    const all = await this.backend.list();
    return all.find((container) => container.sessionId === sessionId);
  }

  private async requireContainer(session: SessionRecord): Promise<ManagedContainer> {
    const container = await this.findContainer(session.id, session.containerId);
    if (!container) {
      throw new NexoraError('session-not-found', `Session ${session.id} has no workstation container: \`nexora session gc\` reconciles it.`);
    }
    return container;
  }

  /** Runs one step and records it as an event with its duration (failures too). */
  async timed<T>(sessionId: SessionId, kind: string, run: () => Promise<T>, describe?: (value: T) => Record<string, unknown>): Promise<T> {
    const begun = performance.now();
    try {
      const value = await run();
      await this.events.record({ sessionId, kind, payload: describe ? describe(value) : {}, durationMs: performance.now() - begun });
      return value;
    } catch (error) {
      await this.events
        .record({ sessionId, kind, payload: { error: describeError(error) }, durationMs: performance.now() - begun })
        .catch(() => undefined);
      throw error;
    }
  }
}
