import { readFile, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { startAgentRun, type RunResult } from '../../agent/agent-run.js';
import type { AgentEvent } from '../../agent/events.js';
import { sessionTotals, type SessionTotals } from '../../agent/session-totals.js';
import { loadConfig } from '../../config/load-config.js';
import { NexoraError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { formatUsd, type Cost } from '../../providers/cost.js';
import type { LatencyTracker } from '../../providers/latency.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { routingStrategies } from '../../providers/router.js';
import { MasterKeyStore, ProviderKeyStore } from '../../secrets/index.js';
import { openSessionManager, type OpenedSessionManager } from '../../sessions/open-session-manager.js';
import { parseSessionId, type Db, type SessionId } from '../../store/index.js';
import { connectTools } from '../../tools/connect-tools.js';
import { EventLogGate } from '../../viewer/event-log-gate.js';
import { formatDuration } from '../output.js';
import { agentLimits, agentTools, recordInto, redactingEventStore, sessionScreenshotArchive } from './agent-wiring.js';
import { openCliDatabase } from './db.js';

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
  /** The environment to read configuration and provider keys from (the server passes its client's). */
  env?: NodeJS.ProcessEnv;
  /** Interrupt on this process's Ctrl+C (default true; the server interrupts through `signal`). */
  handleSigint?: boolean;
}

export interface RunTaskResult extends RunResult {
  sessionId: SessionId;
  sessionStopped: boolean;
  /** Every run on this session so far, this one included. */
  sessionTotals: SessionTotals;
}

/** `nexora run "task"`: one agent run on a session's workstation, streamed as it goes. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the agent on a task in a workstation with your project mounted at /workspace')
    .argument('<task>', 'what to do, in words')
    .option('--model <provider/model>', 'the model to use (default: "model" in nexora.json, else the cheapest capable one with a key)')
    .option('--strategy <strategy>', `how to pick a model: ${routingStrategies.join(', ')}`)
    .option('--workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--session <id>', 'continue on an active session instead of starting one')
    .option('--max-steps <n>', 'stop after this many model steps')
    .option('--max-cost <usd>', 'stop when the run has cost this many US dollars')
    .option('--json', 'print events as JSON lines instead of a readable log')
    .option('--keep', 'keep the session running after the run ends')
    .action(async (task: string, options: Record<string, unknown>) => {
      const parsed = runFlags.safeParse({ task, ...options });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const flag = issue?.path[0] === 'task' ? 'task' : `--${String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw new NexoraError('invalid-argument', `Invalid ${flag}: ${issue?.message ?? 'invalid value'}.`);
      }
      // The run happens in the server; this process streams it (see run-client.ts).
      const { runThroughServer } = await import('./run-client.js');
      const result = await runThroughServer(parsed.data);
      process.exitCode = result.outcome === 'completed' ? 0 : result.outcome === 'interrupted' ? 130 : 1;
    });
}

/** Runs the agent on a task from start to summary (the body of `nexora run`). */
export async function runTask(flags: RunFlags, dependencies: RunTaskDependencies = {}): Promise<RunTaskResult> {
  const workspace = resolve(flags.workspace);
  if (!statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NexoraError('invalid-argument', `Invalid --workspace: ${workspace} is not a directory.`);
  }
  const { config } = await loadConfig({ workspace, ...(dependencies.env ? { env: dependencies.env } : {}) });
  const out = new RunPrinter(flags.json === true, dependencies.stdout ?? process.stdout);
  const db = dependencies.db ?? (await openCliDatabase());
  try {
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
      const started = claimed
        ? await manager.resume(parseSessionId(flags.session ?? ''), { onProgress: (step) => out.note(step) })
        : await manager.start({ workspaceDir: workspace, model: first.info.ref, provider: first.info.provider, onProgress: (step) => out.note(step) });
      const sessionId: SessionId = started.session.id;
      out.note(`session ${sessionId} (${claimed ? 'resumed' : started.fromPool ? 'from the warm pool' : 'cold start'}, ${formatDuration(started.durationMs)}), workspace ${started.session.workspaceDir ?? workspace}`);
      const connected = await connectTools(started.workstation).catch(async (error: unknown) => {
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
          ...agentLimits(config.agent, { maxSteps: flags.maxSteps, maxCostUsd: flags.maxCost }),
          record: recordInto(events, manager.sessions, sessionId),
          signal: controller.signal,
        });
        run.events.subscribe((event) => {
          out.event(event);
          dependencies.onEvent?.(event, sessionId);
        });
        result = await run.result;
      } finally {
        process.off('SIGINT', onInterrupt);
        connected.close();
      }
      // A finished or failed run ends its own session; an interrupted or stopped one stays for a resume.
      const stop = !claimed && !flags.keep && (result.outcome === 'completed' || result.outcome === 'failed');
      if (stop) await manager.stopContainer(sessionId, { reason: `run ${result.outcome}` });
      await saveLatency(registry.latency);
      const totals = sessionTotals(await events.list(sessionId, { kinds: ['run-end'], limit: 100_000 }));
      out.summary(result, sessionId, stop, totals);
      return { ...result, sessionId, sessionStopped: stop, sessionTotals: totals };
    } finally {
      await opened.close();
    }
  } finally {
    if (!dependencies.db) await db.close();
  }
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
