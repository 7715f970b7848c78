import type { GitChangesReport } from '../../sessions/git-baselines.js';
import { describeGitChanges } from '../../sessions/git-metadata.js';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { startAgentRun, type RunResult } from '../../agent/agent-run.js';
import type { AgentEvent } from '../../agent/events.js';
import type { Approver } from '../../agent/approval.js';
import { approvalModes } from '../../agent/approval-mode.js';
import { instructionsPrompt, loadInstructions } from '../../agent/project-instructions.js';
import type { SessionTotals } from '../../agent/session-totals.js';
import { loadConfig } from '../../config/load-config.js';
import { checkWorkspace } from '../../config/workspace-guard.js';
import { describeError, NexoraError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { formatUsd, type Cost } from '../../providers/cost.js';
import type { LatencyTracker } from '../../providers/latency.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { routingStrategies } from '../../providers/router.js';
import { MasterKeyStore, ProviderKeyStore } from '../../secrets/index.js';
import { openSessionManager, type OpenedSessionManager } from '../../sessions/open-session-manager.js';
import { EventStore, parseSessionId, SessionStore, type Db, type SessionId } from '../../store/index.js';
import { connectTools, type ConnectedTools } from '../../tools/connect-tools.js';
import type { Workstation } from '../../workstation/workstation.js';
import { EventLogGate } from '../../viewer/event-log-gate.js';
import { formatDuration } from '../output.js';
import { readTask } from '../task-input.js';
import { terminalApprover } from '../terminal-approver.js';
import { agentLimits, agentTools, approvalGuard, recordInto, redactingEventStore, sessionScreenshotArchive } from './agent-wiring.js';
import { continueConversation, conversationImages, conversationTotals, findConversation, type ContinuedConversation } from './conversation-wiring.js';
import { openCliDatabase } from './db.js';
import { snapshotDir } from './replay.js';
import { copyWorkspace } from './workspace-copy.js';

const runFlags = z.strictObject({
  task: z.string().trim().min(1, 'the task is empty: say what to do, e.g. nexora run "add a test for parse()"'),
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
  strategy: z.enum(routingStrategies).optional(),
  workspace: z.string().min(1),
  session: z.string().optional(),
  maxSteps: z.coerce.number().int().min(1).max(10_000).optional(),
  maxCost: z.coerce.number().positive().finite().optional(),
  json: z.boolean().optional(),
  keep: z.boolean().optional(),
  approve: z.enum(approvalModes).optional(),
  continue: z.boolean().optional(),
  resume: z.string().min(1).optional(),
  snapshot: z.boolean().optional(),
});
export type RunFlags = z.infer<typeof runFlags>;

/** What `runTask` can be given instead of opening it itself (tests pass their own store and engine scope). */
export interface RunTaskDependencies {
  db?: Db;
  openManager?: (db: Db) => Promise<OpenedSessionManager>;
  stdout?: NodeJS.WritableStream;
  /** Aborting it interrupts the run as Ctrl+C does. */
  signal?: AbortSignal;
  onEvent?: (event: AgentEvent, sessionId: SessionId) => void;
  /**
   * Who answers approval questions. Default: the person at the terminal when stdin and stderr
   * are terminals; otherwise no one, and commands that need a yes are refused.
   */
  approver?: Approver | null;
  /** The environment to read configuration and provider keys from (the server passes its client's). */
  env?: NodeJS.ProcessEnv;
  /** Interrupt on this process's Ctrl+C (default true; the server interrupts through `signal`). */
  handleSigint?: boolean;
  /** The session's tools (the server lends its shared channels); default: open them for this run. */
  connectTools?: (sessionId: SessionId, workstation: Workstation) => Promise<ConnectedTools>;
}

export interface RunTaskResult extends RunResult {
  sessionId: SessionId;
  sessionStopped: boolean;
  /** Every run of this conversation so far (over all its sessions), this one included. */
  sessionTotals: SessionTotals;
  /** Set when the run carried on an earlier conversation: the session it came from. */
  continuedFrom?: SessionId;
}

/** `nexora run "task"`: one agent run on a session's workstation, streamed as it goes. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the agent on a task in a workstation with your project mounted at /workspace')
    .argument('[task]', 'what to do, in words (`-`, or none with a pipe: read it from stdin)')
    .option('--model <provider/model>', 'the model to use (default: "model" in nexora.json, else the cheapest capable one with a key)')
    .option('--strategy <strategy>', `how to pick a model: ${routingStrategies.join(', ')}`)
    .option('--workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--session <id>', 'continue on an active session instead of starting one')
    .option('--max-steps <n>', 'stop after this many model steps')
    .option('--max-cost <usd>', 'stop when the run has cost this many US dollars')
    .option('--json', 'print events as JSON lines instead of a readable log')
    .option('--keep', 'keep the session running after the run ends')
    .option('--approve <mode>', `which commands need your yes first: ${approvalModes.join(', ')} (default: agent.approve in the config, else risky)`)
    .option('--continue', 'carry on the last conversation in this workspace (its messages, tool results and totals)')
    .option('--resume <id>', 'carry on the conversation of session <id>')
    .option('--snapshot', 'keep a copy of the workspace as it is at the session\'s start, so `nexora session replay` can replay over it')
    .action(async (task: string | undefined, options: Record<string, unknown>) => {
      const parsed = runFlags.safeParse({ task: await readTask({ argument: task, stdin: process.stdin }), ...options });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const flag = issue?.path[0] === 'task' ? 'task' : `--${String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw new NexoraError('invalid-argument', `Invalid ${flag}: ${issue?.message ?? 'invalid value'}.`);
      }
      // Checked here too, so a usage error does not wait for the server, and a workspace that exposes
      // the host is refused before anything is started (no server, no store).
      checkExclusiveFlags(parsed.data);
      checkWorkspace(parsed.data.workspace);
      // The run happens in the server; this process streams it (see run-client.ts).
      const { runThroughServer } = await import('./run-client.js');
      const result = await runThroughServer(parsed.data);
      process.exitCode = result.outcome === 'completed' ? 0 : result.outcome === 'interrupted' ? 130 : 1;
    });
}

/** Runs the agent on a task from start to summary (the body of `nexora run`). */
export async function runTask(flags: RunFlags, dependencies: RunTaskDependencies = {}): Promise<RunTaskResult> {
  checkExclusiveFlags(flags);
  // First of all: a workspace that exposes the host is refused before its nexora.json is even read.
  let workspace = checkWorkspace(flags.workspace);
  const out = new RunPrinter(flags.json === true, dependencies.stdout ?? process.stdout);
  const db = dependencies.db ?? (await openCliDatabase());
  try {
    const conversationId = flags.continue || flags.resume !== undefined
      ? await findConversation({ events: new EventStore(db), sessions: new SessionStore(db), workspace, resume: flags.resume })
      : undefined;
    // A resumed conversation works on its own workspace, wherever the command runs.
    if (flags.resume !== undefined && conversationId) workspace = checkWorkspace((await new SessionStore(db).get(conversationId)).workspaceDir ?? workspace);
    const { config } = await loadConfig({ workspace, ...(dependencies.env ? { env: dependencies.env } : {}) });
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
      const onInterrupt = (): void => {
        if (controller.signal.aborted) process.exit(130);
        out.note('interrupting: finishing the current step cleanly (Ctrl+C again to quit at once)');
        controller.abort();
      };
      if (dependencies.handleSigint !== false) process.on('SIGINT', onInterrupt);
      let result: RunResult;
      try {
        const run = startAgentRun({
          sessionId,
          task: flags.task,
          // A person who takes control in the web view (`nexora view`, sharing the store) pauses
          // the agent's keyboard and mouse until they hand back.
          tools: agentTools(
            connected.tools,
            new EventLogGate({ sessionId, listEvents: (options) => events.list(sessionId, options) }),
            sessionScreenshotArchive(events, sessionId),
          ),
          candidates,
          retry: config.retry,
          ...limits,
          approval: approvalGuard({ mode: flags.approve ?? config.agent.approve, approver: runApprover(dependencies), events, sessionId }),
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
        process.off('SIGINT', onInterrupt);
        connected.close();
      }
      // A finished or failed run ends its own session; an interrupted or stopped one stays for a resume.
      const stop = !claimed && !flags.keep && (result.outcome === 'completed' || result.outcome === 'failed');
      // Checked after the workstation is gone (when it stops), so nothing changes behind the report.
      if (stop) await manager.stopContainer(sessionId, { reason: `run ${result.outcome}` });
      const gitReport = await manager.gitChanges(sessionId).catch(() => undefined);
      const gitChanged = gitReport !== undefined && (gitReport.changes.length > 0 || gitReport.incomplete);
      if (gitChanged) await events.record({ sessionId, kind: 'git-metadata-changed', payload: gitReport }).catch(() => undefined);
      await saveLatency(registry.latency);
      const totals = await conversationTotals(events, sessionId);
      out.summary(result, sessionId, stop, totals);
      if (gitChanged) out.gitChanges(gitReport, started.session.workspaceDir ?? workspace);
      return { ...result, sessionId, sessionStopped: stop, sessionTotals: totals, ...(conversationId ? { continuedFrom: conversationId } : {}) };
    } finally {
      await opened.close();
    }
  } finally {
    if (!dependencies.db) await db.close();
  }
}

function checkExclusiveFlags(flags: Pick<RunFlags, 'continue' | 'resume' | 'session'>): void {
  if ([flags.continue === true, flags.resume !== undefined, flags.session !== undefined].filter(Boolean).length > 1) {
    throw new NexoraError('invalid-argument', 'Use one of --continue, --resume ID and --session ID: --continue and --resume carry on a conversation, --session starts a new one on an active session.');
  }
}

function runApprover(dependencies: RunTaskDependencies): Approver | undefined {
  if (dependencies.approver !== undefined) return dependencies.approver ?? undefined;
  return process.stdin.isTTY && process.stderr.isTTY ? terminalApprover({ input: process.stdin, output: process.stderr }) : undefined;
}

/** The readable log (or JSON lines) of a run. */
class RunPrinter {
  private inText = false;

  constructor(
    private readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream,
  ) {}

  note(line: string): void {
    if (this.json) this.write({ type: 'note', message: line });
    else this.line(`· ${line}`);
  }

  event(event: AgentEvent): void {
    if (this.json) {
      this.write(event);
      return;
    }
    switch (event.type) {
      case 'run-start':
        this.line(`· model ${event.candidates[0] ?? '?'}${event.candidates.length > 1 ? ` (then ${event.candidates.slice(1, 4).join(', ')})` : ''}; at most ${event.maxSteps} steps${event.maxCostUsd !== undefined ? `, ${formatUsd(event.maxCostUsd)}` : ''}`);
        break;
      case 'step-start':
        this.line(`\nstep ${event.step} · ${event.model}`);
        break;
      case 'text-delta':
        if (!this.inText) this.stdout.write('  ');
        this.inText = true;
        this.stdout.write(event.text.replace(/\n/g, '\n  '));
        break;
      case 'model-retry':
        this.line(`  ↻ ${event.failure} (${event.error.slice(0, 120)}); retry ${event.attempt} in ${formatDuration(event.delayMs)}`);
        break;
      case 'model-fallback':
        this.line(`  ⇢ ${event.from} failed (${event.failure}); falling back to ${event.to}`);
        break;
      case 'tool-call-start':
        this.line(`  → ${event.toolName} ${describeInput(event.input)}`);
        break;
      case 'tool-call-end':
        this.line(`    ${event.isError ? '✗' : '✓'} ${event.summary}${event.imageSent ? ' [screenshot]' : ''} (${formatDuration(event.durationMs)})`);
        break;
      case 'step-end':
        this.line(`  ${formatDuration(event.durationMs)}, ${describeTokens(event.cost)}, ${formatUsd(event.cost.usd)}`);
        break;
      case 'run-end':
        break;
    }
  }

  summary(result: RunResult, sessionId: string, stopped: boolean, totals: SessionTotals): void {
    const sessionNote = stopped ? `session ${sessionId} ended` : `session ${sessionId} is still active: continue with \`nexora run --session ${sessionId} "…"\``;
    if (this.json) {
      this.write({ type: 'summary', ...result, sessionId, sessionStopped: stopped, sessionRuns: totals.runs, sessionCost: totals.cost });
      return;
    }
    const mark = result.outcome === 'completed' ? '✓' : '✗';
    this.line(`\n${mark} ${result.outcome}: ${result.reason}`);
    this.line(`  ${result.steps} steps in ${formatDuration(result.durationMs)}; ${describeTokens(result.cost)}; cost ${formatUsd(result.cost.usd)}${result.model ? ` (${result.model})` : ''}`);
    if (totals.runs > 1) this.line(`  session total over ${totals.runs} runs: ${describeTokens(totals.cost)}; cost ${formatUsd(totals.cost.usd)}`);
    this.line(`  ${sessionNote}`);
  }

  /** The session's changes to git metadata the host would read: a warning, never silent. */
  gitChanges(report: GitChangesReport, workspaceDir: string): void {
    if (this.json) {
      this.write({ type: 'git-metadata-changed', ...report });
      return;
    }
    this.line(`\n${describeGitChanges(report.changes, { incomplete: report.incomplete, workspaceDir })}`);
  }

  private line(text: string): void {
    if (this.inText) this.stdout.write('\n');
    this.inText = false;
    this.stdout.write(`${text}\n`);
  }

  private write(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }
}

function describeInput(input: unknown): string {
  const text = JSON.stringify(input) ?? '';
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function describeTokens(cost: Cost): string {
  const k = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));
  return `${k(cost.inputTokens)} in${cost.cachedInputTokens > 0 ? ` (${k(cost.cachedInputTokens)} cached)` : ''}, ${k(cost.outputTokens)} out`;
}

/** Keeps a copy of the workspace for replays; a copy that fails only means a replay uses the current one. */
async function takeSnapshot(options: { events: EventStore; sessionId: SessionId; workspace: string; note: (line: string) => void }): Promise<void> {
  const dir = snapshotDir(options.sessionId);
  if (existsSync(dir)) return;
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    const copied = await copyWorkspace({ from: options.workspace, to: dir });
    await options.events.record({ sessionId: options.sessionId, kind: 'workspace-snapshot', payload: { dir, ...copied } });
    options.note(`workspace copied for replays (${copied.files} files, ${Math.ceil(copied.bytes / 1024)} KiB)`);
  } catch (error) {
    options.note(`no workspace copy for replays: ${describeError(error)}`);
  }
}

const latencyFile = (): string => join(nexoraPaths().home, 'latency.json');
const latencySchema = z.record(z.string(), z.number().nonnegative());

/** Measured model latencies survive the process, so --strategy fastest has data to go on. */
async function loadLatency(latency: LatencyTracker): Promise<void> {
  const text = await readFile(latencyFile(), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  try {
    const parsed = latencySchema.safeParse(JSON.parse(text));
    if (parsed.success) latency.restore(parsed.data);
  } catch {
    // A damaged file only loses measurements; the next run rewrites it.
  }
}

async function saveLatency(latency: LatencyTracker): Promise<void> {
  await writeFile(latencyFile(), `${JSON.stringify(latency.snapshot(), null, 2)}\n`).catch(() => undefined);
}
