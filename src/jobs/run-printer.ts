import type { AgentEvent } from '../agent/events.js';
import type { RunResult } from '../agent/agent-run.js';
import type { SessionTotals } from '../agent/session-totals.js';
import { formatClock, formatDuration } from '../output/format.js';
import { formatUsd, type Cost } from '../providers/cost.js';
import type { GitChangesReport } from '../sessions/git-baselines.js';
import { describeGitChanges } from '../sessions/git-report-text.js';
import { inertJson, visibleControls } from '../visible-controls.js';
import type { SessionEnding } from './session-ending.js';

/**
 * The readable log (or JSON lines) of a run. Everything in it that came from the model or the
 * workstation is inert on a terminal: control characters visible in the log, `\uXXXX` in JSON.
 */
export class RunPrinter {
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
        this.stdout.write(visibleControls(event.text).replace(/\n/g, '\n  '));
        break;
      case 'model-retry':
        this.line(`  ↻ ${event.failure} (${oneLine(event.error).slice(0, 120)}); retry ${event.attempt} in ${formatDuration(event.delayMs)}`);
        break;
      case 'model-fallback':
        this.line(`  ⇢ ${event.from} failed (${event.failure}); falling back to ${event.to}`);
        break;
      case 'tool-call-start':
        this.line(`  → ${oneLine(event.toolName)} ${describeInput(event.input)}`);
        break;
      case 'tool-call-end':
        this.line(`    ${event.isError ? '✗' : '✓'} ${oneLine(event.summary)}${event.imageSent ? ' [screenshot]' : ''} (${formatDuration(event.durationMs)})`);
        break;
      case 'step-end':
        this.line(`  ${formatDuration(event.durationMs)}, ${describeTokens(event.cost)}, ${formatUsd(event.cost.usd)}`);
        break;
      case 'run-end':
        break;
    }
  }

  summary(result: RunResult, sessionId: string, ending: SessionEnding, totals: SessionTotals): void {
    const sessionNote = endingNote(sessionId, ending);
    if (this.json) {
      this.write({ type: 'summary', ...result, sessionId, sessionStopped: ending.kind === 'stop', ...(ending.kind === 'park' ? { keptUntil: ending.until.toISOString() } : {}), sessionRuns: totals.runs, sessionCost: totals.cost });
      return;
    }
    const mark = result.outcome === 'completed' ? '✓' : '✗';
    this.line(`\n${mark} ${result.outcome}: ${oneLine(result.reason)}`);
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
    this.line(`\n${describeGitChanges(report.changes, { ...report, workspaceDir })}`);
  }

  private line(text: string): void {
    if (this.inText) this.stdout.write('\n');
    this.inText = false;
    // The last word on anything a line carries (notes, git reports with workspace paths).
    this.stdout.write(`${visibleControls(text)}\n`);
  }

  private write(value: unknown): void {
    this.stdout.write(`${inertJson(value)}\n`);
  }
}

function describeInput(input: unknown): string {
  const text = oneLine(JSON.stringify(input) ?? '');
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** Model or workstation text in a line of the log: nothing it holds can start another line. */
function oneLine(text: string): string {
  return visibleControls(text, { oneLine: true });
}

function describeTokens(cost: Cost): string {
  const k = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));
  return `${k(cost.inputTokens)} in${cost.cachedInputTokens > 0 ? ` (${k(cost.cachedInputTokens)} cached)` : ''}, ${k(cost.outputTokens)} out`;
}

function endingNote(sessionId: string, ending: SessionEnding): string {
  switch (ending.kind) {
    case 'stop':
      return `session ${sessionId} ended (--rm)`;
    case 'park':
      return `session ${sessionId} paused until ${formatClock(ending.until)}, then removed: carry on with \`nexora run --continue "…"\``;
    case 'keep':
      return `session ${sessionId} is still running (--keep): continue with \`nexora run --session ${sessionId} "…"\`, end it with \`nexora session stop ${sessionId}\``;
    case 'lent':
      return `session ${sessionId} is still active: continue with \`nexora run --session ${sessionId} "…"\``;
  }
}
