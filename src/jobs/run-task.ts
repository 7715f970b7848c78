import { startAgentRun, type RunResult } from '../agent/agent-run.js';
import type { AgentEvent } from '../agent/events.js';
import type { Approver } from '../agent/approval.js';
import { instructionsPrompt, loadInstructions } from '../agent/project-instructions.js';
import type { SessionTotals } from '../agent/session-totals.js';
import { loadConfig } from '../config/load-config.js';
import { checkWorkspace } from '../config/workspace-guard.js';
import { NexoraError } from '../errors.js';
import { formatDuration } from '../output/format.js';
import { nexoraPaths } from '../paths.js';
import { ProviderRegistry } from '../providers/registry.js';
import { MasterKeyStore, ProviderKeyStore } from '../secrets/index.js';
import { keepIdleMs } from '../sessions/keep-idle.js';
import { openSessionManager, type OpenedSessionManager } from '../sessions/open-session-manager.js';
import { EventStore, parseSessionId, SessionStore, type Db, type SessionId } from '../store/index.js';
import { connectTools, type ConnectedTools } from '../tools/connect-tools.js';
import type { Workstation } from '../workstation/workstation.js';
import { agentLimits, agentTools, approvalGuard, recordInto, redactingEventStore, sessionScreenshotArchive } from './agent-wiring.js';
import { continueConversation, conversationImages, conversationTotals, findConversation, type ContinuedConversation } from './conversation-wiring.js';
import { openJobDatabase } from './job-store.js';
import { loadLatency, saveLatency } from './model-latency.js';
import { checkExclusiveFlags, type RunFlags } from './run-flags.js';
import { sessionEnding } from './session-ending.js';
import { RunPrinter } from './run-printer.js';
import { takeSnapshot } from './workspace-snapshot.js';

/** What `runTask` can be given instead of opening it itself (tests pass their own store and engine scope). */
export interface RunTaskDependencies {
  db?: Db;
  openManager?: (db: Db) => Promise<OpenedSessionManager>;
  stdout?: NodeJS.WritableStream;
  /** Aborting it interrupts the run as Ctrl+C does. */
  signal?: AbortSignal;
  onEvent?: (event: AgentEvent, sessionId: SessionId) => void;
  /**
   * Who answers approval questions (the server: its client, when one is at a terminal). Default:
   * no one, and commands that need a yes are refused.
   */
  approver?: Approver | null;
  /** The environment to read configuration and provider keys from (the server passes its client's). */
  env?: NodeJS.ProcessEnv;
  /** The session's tools (the server lends its shared channels); default: open them for this run. */
  connectTools?: (sessionId: SessionId, workstation: Workstation) => Promise<ConnectedTools>;
}

export interface RunTaskResult extends RunResult {
  sessionId: SessionId;
  sessionStopped: boolean;
  /** Set when the session was parked: its workstation is paused and kept until then. */
  keptUntil?: Date;
  /** Every run of this conversation so far (over all its sessions), this one included. */
  sessionTotals: SessionTotals;
  /** Set when the run carried on an earlier conversation: the session it came from. */
  continuedFrom?: SessionId;
}

/** Runs the agent on a task from start to summary (the body of `nexora run`). */
export async function runTask(flags: RunFlags, dependencies: RunTaskDependencies = {}): Promise<RunTaskResult> {
  checkExclusiveFlags(flags);
  // First of all: a workspace that exposes the host is refused before its nexora.json is even read.
  let workspace = checkWorkspace(flags.workspace);
  const out = new RunPrinter(flags.json === true, dependencies.stdout ?? process.stdout);
  const db = dependencies.db ?? (await openJobDatabase());
  try {
    const conversationId = flags.continue || flags.resume !== undefined
      ? await findConversation({ events: new EventStore(db), sessions: new SessionStore(db), workspace, resume: flags.resume })
      : undefined;
    // A resumed conversation works on its own workspace, wherever the command runs.
    if (flags.resume !== undefined && conversationId) workspace = checkWorkspace((await new SessionStore(db).get(conversationId)).workspaceDir ?? workspace);
    const { config } = await loadConfig({ workspace, ...(dependencies.env ? { env: dependencies.env } : {}) });
    // Read before anything starts: a bad value is refused with nothing left behind.
    const idleMs = keepIdleMs({ env: dependencies.env ?? process.env, configMinutes: config.agent.keepIdleMinutes });
    const instructions = instructionsPrompt(await loadInstructions({ workspace, userFile: nexoraPaths().userInstructions }));
    const keys = new ProviderKeyStore({ db, masterKeys: new MasterKeyStore(nexoraPaths()) });
    const registry = new ProviderRegistry({ providers: config.providers, models: config.models, keys, ...(dependencies.env ? { env: dependencies.env } : {}) });
    await loadLatency(registry.latency);
    const model = flags.model ?? config.model;
    // Fails here, before any container starts, when no provider is usable.
    const candidates = await registry.candidates({
      strategy: flags.strategy ?? (flags.model ? 'explicit' : config.routing.strategy),
      ...(model !== undefined ? { model } : {}),
      fallbacks: config.routing.fallbacks,
      needs: { tools: true, vision: config.routing.requireVision },
    });
    const first = candidates[0];
    if (!first) throw new NexoraError('provider-unavailable', registry.noProviderMessage());
    const events = await redactingEventStore(db, registry, candidates);

    const opened = dependencies.openManager ? await dependencies.openManager(db) : await openSessionManager({ db });
    try {
      const manager = opened.manager;
      await manager.reconcile();
      const claimed = flags.session !== undefined;
      const limits = agentLimits(config.agent, { maxSteps: flags.maxSteps, maxCostUsd: flags.maxCost });
      let continued: ContinuedConversation | undefined;
      if (conversationId) {
        continued = await continueConversation({
          manager,
          events,
          sessionId: conversationId,
          workspace,
          model: first.info.ref,
          provider: first.info.provider,
          keepImages: limits.keepImages,
          onProgress: (step) => out.note(step),
        });
      }
      const started = continued
        ? continued.started
        : claimed
          ? await manager.resume(parseSessionId(flags.session ?? ''), { onProgress: (step) => out.note(step) })
          : await manager.start({ workspaceDir: workspace, model: first.info.ref, provider: first.info.provider, onProgress: (step) => out.note(step) });
      const sessionId: SessionId = started.session.id;
      const how = continued
        ? `conversation ${conversationId ?? ''} carried on, ${continued.history.length} turns restored, ${continued.sameWorkstation ? 'its workstation resumed' : 'on a new workstation'}`
        : claimed ? 'resumed' : started.fromPool ? 'from the warm pool' : 'cold start';
      out.note(`session ${sessionId} (${how}, ${formatDuration(started.durationMs)}), workspace ${started.session.workspaceDir ?? workspace}`);
      if (flags.snapshot) await takeSnapshot({ events, sessionId, workspace: started.session.workspaceDir ?? workspace, note: (line) => out.note(line) });
      const connected = await (dependencies.connectTools ? dependencies.connectTools(sessionId, started.workstation) : connectTools(started.workstation)).catch(async (error: unknown) => {
        // A session this run started but cannot use is ended rather than left behind.
        if (!claimed) await manager.stopContainer(sessionId, { reason: 'the tools could not connect' }).catch(() => undefined);
        throw error;
      });
      const controller = new AbortController();
      if (dependencies.signal?.aborted) controller.abort();
      dependencies.signal?.addEventListener('abort', () => controller.abort(), { once: true });
      let result: RunResult;
      try {
        const run = startAgentRun({
          sessionId,
          task: flags.task,
          // Run by the server, the tools are the live session's: a person's take-over holds them.
          tools: agentTools(connected.tools, sessionScreenshotArchive(events, sessionId)),
          candidates,
          retry: config.retry,
          ...limits,
          approval: approvalGuard({ mode: flags.approve ?? config.agent.approve, approver: dependencies.approver ?? undefined, events, sessionId }),
          ...(instructions ? { instructions } : {}),
          ...(continued ? { history: continued.history, resumeNote: continued.resumeNote } : {}),
          images: conversationImages(sessionId),
          record: recordInto(events, manager.sessions, sessionId),
          signal: controller.signal,
        });
        const onEvent = (event: AgentEvent): void => {
          out.event(event);
          dependencies.onEvent?.(event, sessionId);
        };
        // The loop emits run-start before startAgentRun returns: replay what came before subscribing.
        for (const event of run.events.events) onEvent(event);
        run.events.subscribe(onEvent);
        result = await run.result;
      } finally {
        connected.close();
      }
      // Every outcome is handled alike (see keep-idle.ts): --rm stops at once, --keep leaves it
      // running, otherwise it is parked for --continue. A session the run was lent (--session) is its owner's.
      const ending = sessionEnding({ claimed, flags, outcome: result.outcome, idleMs });
      // A stop runs the session layer's git check (and records it); a session kept for later is only looked at.
      const stopped = ending.kind === 'stop' ? await manager.stopContainer(sessionId, { reason: `run ${result.outcome} (--rm)` }) : undefined;
      if (ending.kind === 'park') await manager.park(sessionId, { until: ending.until, reason: `run ${result.outcome}` });
      const gitReport = stopped ? stopped.git : await manager.gitChanges(sessionId).catch(() => undefined);
      const gitChanged = gitReport !== undefined && (gitReport.changes.length > 0 || gitReport.neutralised.length > 0 || gitReport.failed.length > 0 || gitReport.incomplete);
      await saveLatency(registry.latency);
      const totals = await conversationTotals(events, sessionId);
      out.summary(result, sessionId, ending, totals);
      if (gitChanged) out.gitChanges(gitReport, started.session.workspaceDir ?? workspace);
      return { ...result, sessionId, sessionStopped: ending.kind === 'stop', ...(ending.kind === 'park' ? { keptUntil: ending.until } : {}), sessionTotals: totals, ...(conversationId ? { continuedFrom: conversationId } : {}) };
    } finally {
      await opened.close();
    }
  } finally {
    if (!dependencies.db) await db.close();
  }
}
