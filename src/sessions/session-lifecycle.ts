import { performance } from 'node:perf_hooks';
import { checkWorkspace } from '../config/workspace-guard.js';
import { NexoraError, describeError } from '../errors.js';
// The same context the key rotation re-seals with: one definition, so they cannot drift.
import { vncPasswordContext } from '../secrets/index.js';
import { newSessionId, type Db, type EventStore, type PortAllocator, type SessionId, type SessionRecord, type SessionStore } from '../store/index.js';
import type { ManagedContainer, WorkstationBackend } from '../workstation/backend.js';
import { LABELS, type ContainerOwner } from '../workstation/labels.js';
import type { Workstation } from '../workstation/workstation.js';
import { workspaceOwner, type NumericUser } from '../workstation/workspace-owner.js';
import { toInfo, type ContainerInfo } from './container-info.js';
import type { GitBaselines, GitChangesReport } from './git-baselines.js';
import { GitGuard } from './git-guard.js';
import type { NeutraliseResult } from './git-neutralise.js';
import { recordStep } from './step-recorder.js';
import { newVncPassword, storeVncPassword, type PasswordSealer } from './vnc-password.js';

export interface SessionLifecycleOptions {
  db: Db;
  sessions: SessionStore;
  events: EventStore;
  backend: WorkstationBackend;
  ports: PortAllocator;
  sealer: PasswordSealer;
  /** This process, as recorded on sessions it is starting or stopping. */
  owner: ContainerOwner;
  /** How long a cold start may take before it is undone. Default 60 s. */
  startTimeoutMs?: number;
  /**
   * Records each session's workspace git metadata at its start; while it runs and at every stop,
   * whatever would make git on the host run a program is moved aside (git-guard.ts).
   */
  gitBaselines?: GitBaselines;
  /** The guard's interval between walks of the whole workspace (default 2 s). */
  gitRescanIntervalMs?: number;
}

/** What a stop found: the git check's report (undefined when the session had no baseline). */
export interface StopOutcome {
  git?: GitChangesReport;
}

/** The session record's fields, resolved by the caller (the manager applies its defaults). */
export interface SessionRecordFields {
  userId: string;
  model: string;
  provider: string;
}

export interface ColdStartOptions {
  workspaceDir: string;
  /** A session id to use (a new one otherwise); a session created beforehand must be `starting`. */
  sessionId?: SessionId;
  /** For the record of a new session (unused when `sessionId` names one created beforehand). */
  record: SessionRecordFields;
  /** The user the workstation runs as; default: the workspace directory's owner. */
  user?: NumericUser;
  /** Start Chromium now instead of on first use. */
  startChromium?: boolean;
  /** Set for a warm-pool member: it stays `starting` (and owned) until claimed. */
  poolKey?: string;
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

/** A signal and a progress callback, for the longer operations. */
export interface LifecycleCallOptions {
  signal?: AbortSignal;
  onProgress?: (step: string) => void;
}

/**
 * One session's workstation from its start to its end: cold start (ports, container,
 * readiness, each step an event, everything undone on failure), stop, resume, removal. Knows
 * nothing of the warm pool or reconciliation, which build on it: the arrows point down to here.
 */
export class SessionLifecycle {
  readonly sessions: SessionStore;
  readonly events: EventStore;
  readonly backend: WorkstationBackend;
  private readonly db: Db;
  private readonly ports: PortAllocator;
  private readonly sealer: PasswordSealer;
  private readonly owner: ContainerOwner;
  private readonly startTimeoutMs: number;
  private readonly gitBaselines: GitBaselines | undefined;
  private readonly gitRescanIntervalMs: number | undefined;
  /** The live sessions' git guards, by session id. */
  private readonly gitGuards = new Map<string, GitGuard>();
  /** Sessions whose final check has begun: no guard may start for them after it. */
  private readonly gitSettling = new Set<string>();
  /** Set by closeGitGuards: this process guards nothing more (it is shutting down). */
  private gitGuardsClosed = false;
  private readonly resuming = new Map<string, Promise<StartedSession>>();

  constructor(options: SessionLifecycleOptions) {
    this.db = options.db;
    this.sessions = options.sessions;
    this.events = options.events;
    this.backend = options.backend;
    this.ports = options.ports;
    this.sealer = options.sealer;
    this.owner = options.owner;
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.gitBaselines = options.gitBaselines;
    this.gitRescanIntervalMs = options.gitRescanIntervalMs;
  }

  /**
   * Starts a session: allocates its ports, creates and starts its container, waits until the
   * desktop is ready. Each step is recorded as an event; on any failure everything done so far
   * is undone (container removed, ports released) and the session is marked crashed.
   */
  async startCold(options: ColdStartOptions): Promise<StartedSession> {
    const begun = performance.now();
    // Every mount of a workspace passes here: refuse ones that expose the host (workspace-guard.ts).
    const workspaceDir = checkWorkspace(options.workspaceDir);
    const user = options.user ?? (await workspaceOwner(workspaceDir));
    const signal = options.signal ? { signal: options.signal } : {};
    await this.backend.checkImage(signal);
    const id = options.sessionId ?? newSessionId();
    const existing = await this.sessions.find(id);
    if (!existing) {
      await this.sessions.create({ id, ...options.record, workspaceDir });
    } else if (existing.status !== 'starting' || existing.containerId) {
      throw new NexoraError(
        'session-invalid-transition',
        `Session ${id} is ${existing.status}${existing.containerId ? ' and has a workstation' : ''}: only a new session can be started. Resume it with \`nexora session resume ${id}\`, or start a new one.`,
      );
    }
    await this.sessions.setOwner(id, this.owner);
    let containerId: string | undefined;
    try {
      options.onProgress?.('allocating ports');
      const ports = await recordStep(this.events, { sessionId: id, kind: 'ports-allocate', run: () => this.ports.allocate(this.db, id), describe: (pair) => ({ ...pair }) });
      const password = newVncPassword();
      await storeVncPassword({ db: this.db, sessions: this.sessions, sealer: this.sealer, sessionId: id, password });
      options.onProgress?.('creating the workstation container');
      const created = await recordStep(this.events, {
        sessionId: id,
        kind: 'workstation-create',
        run: () =>
          this.backend.create({
            sessionId: id,
            workspaceDir,
            user,
            vncPort: ports.vncPort,
            cdpPort: ports.cdpPort,
            startTimeoutMs: this.startTimeoutMs,
            ...(options.startChromium !== undefined ? { startChromium: options.startChromium } : {}),
            ...(options.poolKey ? { poolKey: options.poolKey } : {}),
            ...signal,
          }),
        describe: (result) => ({ containerId: result.id, name: result.name, image: this.backend.image, user: `${user.uid}:${user.gid}`, ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}) }),
      });
      containerId = created.id;
      for (const warning of created.warnings) options.onProgress?.(`warning: ${warning}`);
      await this.sessions.setContainer(id, { containerId, ...ports });
      options.onProgress?.('waiting for the desktop (X, VNC, tmux)');
      await recordStep(this.events, {
        sessionId: id,
        kind: 'workstation-ready',
        run: () => this.backend.waitReady(created.id, { vncPort: ports.vncPort, vncPassword: password, timeoutMs: this.startTimeoutMs, ...signal }),
      });
      if (!options.poolKey) {
        await this.sessions.transition(id, 'active');
        await this.sessions.setOwner(id, undefined);
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
    const container = containerId ?? (await this.findContainer(id).catch(() => undefined))?.id;
    if (container) {
      await recordStep(this.events, { sessionId: id, kind: 'workstation-remove', run: () => this.backend.remove(container), describe: () => ({ containerId: container, reason: 'start failed' }) }).catch(() => undefined);
    }
    await this.events
      .record({ sessionId: id, kind: 'session-start-fail', payload: { error: describeError(error), code: NexoraError.is(error) ? error.code : 'unknown' } })
      .catch(() => undefined);
    await this.sessions.transition(id, 'crashed', { reason: `start failed: ${describeError(error)}`.slice(0, 500) }).catch(() => undefined);
    await this.sessions.setOwner(id, undefined).catch(() => undefined);
  }

  /**
   * Ends a session, removes its workstation and releases its ports; then, with nothing left to
   * write to the workspace, runs the final git check (see settleGit) and returns its report.
   * Stopping a session that is already over only removes a container left behind (and runs the
   * check if it never ran: a session that crashed under a server that died).
   */
  async stop(sessionId: SessionId, options: { reason?: string } = {}): Promise<StopOutcome> {
    const session = await this.sessions.get(sessionId);
    if (session.status === 'ended' || session.status === 'crashed') {
      const leftover = await this.findContainer(sessionId);
      if (leftover) await this.backend.remove(leftover.id);
      return gitOutcome(await this.settleGit(sessionId));
    }
    if (session.status !== 'stopping') await this.sessions.transition(sessionId, 'stopping', options.reason ? { reason: options.reason } : {});
    await this.sessions.setOwner(sessionId, this.owner);
    const container = await this.findContainer(sessionId, session.containerId);
    if (container) {
      await recordStep(this.events, {
        sessionId,
        kind: 'workstation-remove',
        // Removed with SIGKILL, without a graceful stop: the workspace is a bind mount whose
        // files are already on disk, and nothing else in the container is worth the wait.
        run: () => this.backend.remove(container.id),
        describe: () => ({ containerId: container.id }),
      });
    }
    // Before the session counts as ended: a stop interrupted here is finished by reconciliation, which checks too.
    const git = await this.settleGit(sessionId);
    const released = { vncPort: session.vncPort, cdpPort: session.cdpPort };
    await this.sessions.transition(sessionId, 'ended', { reason: options.reason ?? 'stopped' });
    await this.events.record({ sessionId, kind: 'ports-release', payload: released });
    await this.sessions.setOwner(sessionId, undefined);
    return gitOutcome(git);
  }

  /**
   * Parks an active session whose run or client ended: its workstation is paused (nothing in it
   * runs or writes on) and kept for a resume until `until`, when the server's sweep stops it.
   * A resume unparks it. A session whose container is gone is only marked.
   */
  async park(sessionId: SessionId, options: { until: Date; reason?: string; signal?: AbortSignal }): Promise<void> {
    const session = await this.sessions.get(sessionId);
    if (session.status !== 'active') {
      throw new NexoraError('session-invalid-transition', `Session ${sessionId} is ${session.status}: only an active session can be paused and kept.`);
    }
    const signal = options.signal ? { signal: options.signal } : {};
    const container = await this.findContainer(sessionId, session.containerId, signal);
    await recordStep(this.events, {
      sessionId,
      kind: 'workstation-park',
      run: async () => {
        if (container?.state === 'running') await this.backend.pause(container.id, signal);
        await this.sessions.setKeptUntil(sessionId, options.until);
      },
      describe: () => ({ containerId: container?.id ?? null, until: options.until.toISOString(), ...(options.reason ? { reason: options.reason } : {}) }),
    });
  }

  /** Ends a session (if live) and deletes its record and history. */
  async remove(sessionId: SessionId): Promise<void> {
    await this.stop(sessionId, { reason: 'removed' });
    await this.sessions.remove(sessionId);
    await this.gitBaselines?.remove(sessionId);
  }

  /** The workstation of an active session, for the tools. */
  async workstation(sessionId: SessionId): Promise<Workstation> {
    const session = await this.sessions.get(sessionId);
    if (session.status !== 'active') {
      throw new NexoraError('workstation-not-ready', `Session ${sessionId} is ${session.status}, not active: ${session.status === 'starting' ? 'wait for its start to finish' : `start a new session, or \`nexora session resume ${sessionId}\``}.`);
    }
    const container = await this.findContainer(session.id, session.containerId);
    if (!container) {
      throw new NexoraError('session-not-found', `Session ${session.id} has no workstation container: \`nexora session gc\` reconciles it.`);
    }
    // A parked session (paused after its run) is taken up by whoever uses it next, at any door.
    if (container.state === 'paused') return (await this.resume(sessionId)).workstation;
    return this.backend.workstation(container, await this.vncPassword(sessionId));
  }

  /** The session's VNC password in the clear (for the RFB client; print it only on request). */
  async vncPassword(sessionId: SessionId): Promise<string> {
    const sealed = await this.sessions.getVncPassword(sessionId);
    if (!sealed) throw new NexoraError('session-not-found', `Session ${sessionId} has no VNC password: it is over.`);
    return this.sealer.open(sealed, vncPasswordContext(sessionId));
  }

  /**
   * Reattaches to an active session: returns at once when its container runs, unpauses a
   * paused one, and restarts a stopped one (same container, same workspace, same ports),
   * waiting until the desktop is ready again. The session's history is untouched.
   */
  resume(sessionId: SessionId, options: LifecycleCallOptions = {}): Promise<StartedSession> {
    // The health monitor, a reconciliation and a user may all resume one session at once:
    // they share one restart rather than race two.
    let pending = this.resuming.get(sessionId);
    if (!pending) {
      pending = this.resumeOnce(sessionId, options).finally(() => this.resuming.delete(sessionId));
      this.resuming.set(sessionId, pending);
    }
    return pending;
  }

  private async resumeOnce(sessionId: SessionId, options: LifecycleCallOptions): Promise<StartedSession> {
    const begun = performance.now();
    const session = await this.sessions.get(sessionId);
    const extras = await this.sessions.extras(sessionId);
    if (session.status !== 'active' || extras?.poolKey) {
      throw new NexoraError(
        'session-invalid-transition',
        `Session ${sessionId} is ${extras?.poolKey ? 'a warm-pool member' : session.status} and cannot be resumed${session.status === 'ended' || session.status === 'crashed' ? `: start a new session on the same workspace (\`nexora session start --workspace ${session.workspaceDir ?? 'DIR'}\`)` : ''}.`,
      );
    }
    const signal = options.signal ? { signal: options.signal } : {};
    const container = await this.findContainer(sessionId, session.containerId, signal);
    if (!container) {
      await this.sessions.transition(sessionId, 'crashed', { reason: 'its workstation container is gone' });
      throw new NexoraError('session-not-found', `Session ${sessionId}'s workstation container is gone, so it cannot be resumed; it is now marked crashed. Start a new session on the same workspace.`);
    }
    const password = await this.vncPassword(sessionId);
    // A parked session is taken up again: the sweep must not stop it under its new user.
    await this.sessions.setKeptUntil(sessionId, null);
    if (container.state !== 'running') {
      options.onProgress?.(container.state === 'paused' ? 'unpausing the workstation' : 'restarting the workstation');
      await recordStep(this.events, {
        sessionId,
        kind: 'workstation-restart',
        run: async () => {
          if (container.state === 'paused') {
            await this.backend.unpause(container.id, signal);
            await this.backend.waitGreeting({ id: container.id, vncPort: container.vncPort, vncPassword: password, timeoutMs: this.startTimeoutMs, ...signal });
            return;
          }
          // The old log stays with the container: wait for a READY beyond the ones in it.
          const skipVerdicts = await this.backend.verdictsSoFar(container.id, signal);
          await this.backend.start(container.id, signal);
          options.onProgress?.('waiting for the desktop (X, VNC, tmux)');
          await this.backend.waitReady(container.id, { vncPort: container.vncPort, vncPassword: password, timeoutMs: this.startTimeoutMs, skipVerdicts, ...signal });
        },
        describe: () => ({ containerId: container.id, from: container.state }),
      });
    } else {
      await this.events.record({ sessionId, kind: 'session-reattach', payload: { containerId: container.id } });
    }
    // Sessions started before baselines existed get one now: later changes are still guarded.
    if (this.gitBaselines && !(await this.gitBaselines.has(sessionId))) this.recordGitBaseline(sessionId, session.workspaceDir, new Date());
    else await this.guardGit(sessionId);
    const fresh = (await this.backend.inspect(container.id, signal)) ?? container;
    return {
      session,
      info: toInfo(session, fresh, true),
      workstation: this.backend.workstation(fresh, password),
      fromPool: false,
      durationMs: performance.now() - begun,
    };
  }

  /** A session's container: by the recorded id, else by its session label. */
  async findContainer(sessionId: string, containerId?: string | null, options: { signal?: AbortSignal } = {}): Promise<ManagedContainer | undefined> {
    if (containerId) {
      const byId = await this.backend.inspect(containerId, options);
      if (byId) return byId;
    }
    const all = await this.backend.list(options);
    return all.find((container) => container.sessionId === sessionId);
  }

  /**
   * Takes the session's git baseline in the background, as of `startedAt` (see
   * GitBaselines.save), then starts its guard.
   */
  recordGitBaseline(sessionId: SessionId, workspaceDir: string | null, startedAt: Date): void {
    if (!this.gitBaselines || !workspaceDir) return;
    void this.gitBaselines.save(sessionId, workspaceDir, { startedAt }).then(async (problem) => {
      if (problem) await this.events.record({ sessionId, kind: 'git-baseline-failed', payload: { error: problem } }).catch(() => undefined);
      else await this.guardGit(sessionId).catch(() => undefined);
    });
  }

  /**
   * Starts guarding a live session's workspace git metadata, if it has a baseline and no guard
   * yet: after its start, and for a session this process adopted (a server restarted under it).
   */
  async guardGit(sessionId: SessionId): Promise<void> {
    if (!this.gitBaselines || this.gitGuardsClosed || this.gitGuards.has(sessionId)) return;
    const session = await this.sessions.get(sessionId);
    if (session.status !== 'active' || !session.workspaceDir) return;
    if (await this.gitBaselines.settled(sessionId)) return;
    const baseline = await this.gitBaselines.baseline(sessionId);
    if (!baseline || this.gitGuardsClosed || this.gitGuards.has(sessionId) || this.gitSettling.has(sessionId)) return;
    const guard = new GitGuard({
      workspaceDir: session.workspaceDir,
      baseline,
      onNeutralised: (result) => void this.recordNeutralised(sessionId, result),
      ...(this.gitRescanIntervalMs !== undefined ? { rescanIntervalMs: this.gitRescanIntervalMs } : {}),
    });
    this.gitGuards.set(sessionId, guard);
    guard.start();
  }

  private async recordNeutralised(sessionId: SessionId, result: NeutraliseResult): Promise<void> {
    await this.events.record({ sessionId, kind: 'git-metadata-neutralised', payload: { neutralised: result.neutralised, failed: result.failed } }).catch(() => undefined);
  }

  /**
   * The session's final git check, for every way a session ends (stop from any door, a crash, a
   * reconciliation): its guard stops, then whatever would make git on the host run a program is
   * moved aside and the rest reported, recorded as a `git-metadata-changed` event. Once per
   * session; a failure is recorded, never thrown (the stop goes on).
   */
  async settleGit(sessionId: SessionId): Promise<GitChangesReport | undefined> {
    this.gitSettling.add(sessionId);
    const guard = this.gitGuards.get(sessionId);
    this.gitGuards.delete(sessionId);
    await guard?.close();
    if (!this.gitBaselines) return undefined;
    try {
      const session = await this.sessions.get(sessionId);
      if (!session.workspaceDir) return undefined;
      if (await this.gitBaselines.settled(sessionId)) return await this.gitBaselines.changes(sessionId, session.workspaceDir);
      const report = await this.gitBaselines.settle(sessionId, session.workspaceDir, { neutralisedBefore: guard?.neutralised ?? [] });
      if (report && (report.changes.length > 0 || report.neutralised.length > 0 || report.failed.length > 0 || report.incomplete)) {
        await this.events.record({ sessionId, kind: 'git-metadata-changed', payload: report }).catch(() => undefined);
      }
      return report;
    } catch (error) {
      await this.events.record({ sessionId, kind: 'git-check-failed', payload: { error: describeError(error) } }).catch(() => undefined);
      return undefined;
    }
  }

  /**
   * Stops every guard this process runs and starts no more (a server shutting down: its sessions
   * go on, and the next server guards them; their stops still run the final check).
   */
  async closeGitGuards(): Promise<void> {
    this.gitGuardsClosed = true;
    const guards = [...this.gitGuards.values()];
    this.gitGuards.clear();
    await Promise.all(guards.map((guard) => guard.close()));
  }

  /** What the session changed in its workspace's git metadata since it started; undefined without a baseline. */
  async gitChanges(sessionId: SessionId, options: { signal?: AbortSignal } = {}): Promise<GitChangesReport | undefined> {
    const session = await this.sessions.get(sessionId);
    if (!this.gitBaselines || !session.workspaceDir) return undefined;
    return this.gitBaselines.changes(sessionId, session.workspaceDir, options);
  }
}

function gitOutcome(git: GitChangesReport | undefined): StopOutcome {
  return git ? { git } : {};
}
