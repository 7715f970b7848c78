import type { ImageSize, VisualTools } from '../tools/types.js';
import type { ApprovalGuard } from './approval.js';
import type { RecordedEntry } from './conversation-record.js';
import { runTool } from './run-tool.js';
import { ScreenContext } from './screen-text.js';

/** One tool call to perform again, with what it returned when it was recorded. */
export interface ReplayStep {
  /** 1-based, in the order the calls were made. */
  index: number;
  toolName: string;
  input: unknown;
  /** The result's text as the model read it (absent in a script without expectations). */
  expected?: string;
  /** Why the call is not performed (it never finished in the recording). */
  skip?: string;
}

export interface ReplayStepResult {
  step: ReplayStep;
  outcome: 'same' | 'different' | 'performed' | 'skipped';
  /** The result's text now. */
  actual: string;
  isError: boolean;
  durationMs: number;
  /** The first line that differs (1-based), after timings are set aside. */
  difference?: { line: number; expected: string; actual: string };
}

/** The note of a screenshot scaled for the model: its mouse coordinates are in these pixels. */
const scaledScreenshot = /^The screenshot is scaled to (\d+)x(\d+)(?: \(the whole display\))?; give mouse coordinates in its pixels\.$/;

/** Results that say a call did not (fully) run: performing them again proves nothing. */
const unfinished = /^(Not run:|Interrupted by the user while it ran|interrupted by the user after|Invalid tool call:)/;

/** The recorded tool calls of a conversation, in order, each with its recorded result. */
export function replayStepsOf(entries: readonly RecordedEntry[]): ReplayStep[] {
  const steps: ReplayStep[] = [];
  entries.forEach((entry, position) => {
    if (entry.role !== 'assistant') return;
    const following = entries[position + 1];
    for (const call of entry.toolCalls) {
      const result = following?.role === 'tool' ? following.results.find((candidate) => candidate.toolCallId === call.toolCallId) : undefined;
      const step: ReplayStep = { index: steps.length + 1, toolName: call.toolName, input: call.input };
      if (result) step.expected = result.text;
      if (!result) step.skip = 'the recording has no result for it';
      else if (unfinished.test(result.text)) step.skip = `it did not finish in the recording (${result.text.split('\n', 1)[0]?.slice(0, 80) ?? ''})`;
      steps.push(step);
    }
  });
  return steps;
}

/**
 * A result's text with what legitimately varies between runs set aside: durations, how a
 * wait ended, and notes about screenshots (replays look at text only).
 */
export function normalizeResult(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\((The screenshot is the same as the last one you were sent|Screenshot no longer attached|The screenshot follows in the next message)\.\)$/.test(line.trim()))
    .filter((line) => !scaledScreenshot.test(line.trim()))
    .map((line) =>
      line
        .replace(/^(\d+) key presses sent; the screen (settled|was still changing) after \d+ ms \((quiet|pattern|timeout|none)\)\./, '$1 key presses sent.')
        .replace(/\b\d+(\.\d+)? ms\b/g, 'N ms'),
    )
    .join('\n')
    .trimEnd();
}

function firstDifference(expected: string, actual: string): ReplayStepResult['difference'] {
  const left = expected.split('\n');
  const right = actual.split('\n');
  for (let line = 0; line < Math.max(left.length, right.length); line++) {
    if (left[line] !== right[line]) return { line: line + 1, expected: left[line] ?? '(no line)', actual: right[line] ?? '(no line)' };
  }
  return undefined;
}

/**
 * Performs recorded tool calls again, in order, on a workstation, with no model involved, and
 * compares each result with the recording. Every call goes through the approval policy again. The screen context starts fresh, as it did when
 * the session started, so "what changed since the last look" is comparable too.
 */
export async function replaySteps(options: {
  tools: VisualTools;
  steps: readonly ReplayStep[];
  maxOutputChars: number;
  /**
   * The approval policy the calls pass again: a yes given when they were recorded is never
   * replayed (with no one to ask, what needs a yes is refused and the step differs).
   */
  approval: ApprovalGuard;
  signal?: AbortSignal;
  onStep?: (result: ReplayStepResult) => void;
}): Promise<ReplayStepResult[]> {
  const screens = new ScreenContext();
  const signal = options.signal ?? new AbortController().signal;
  const results: ReplayStepResult[] = [];
  let imageSize: ImageSize | undefined;
  for (const step of options.steps) {
    let result: ReplayStepResult;
    if (step.skip) {
      result = { step, outcome: 'skipped', actual: '', isError: false, durationMs: 0 };
    } else {
      const started = performance.now();
      // The model pointed in the pixels of the screenshots it was sent: the replayed mouse
      // calls are scaled back the same way.
      options.tools.setImageSize?.(imageSize);
      const outcome = await runTool({ tools: options.tools, name: step.toolName, input: step.input, screens, wantImage: false, maxOutputChars: options.maxOutputChars, signal, approval: options.approval });
      const durationMs = performance.now() - started;
      if (step.expected === undefined) {
        result = { step, outcome: 'performed', actual: outcome.text, isError: outcome.isError, durationMs };
      } else {
        const difference = firstDifference(normalizeResult(step.expected), normalizeResult(outcome.text));
        result = { step, outcome: difference ? 'different' : 'same', actual: outcome.text, isError: outcome.isError, durationMs, ...(difference ? { difference } : {}) };
      }
    }
    const scaled = step.expected?.split('\n').map((line) => scaledScreenshot.exec(line.trim())).find((match) => match !== null);
    if (scaled) imageSize = { width: Number(scaled[1]), height: Number(scaled[2]) };
    results.push(result);
    options.onStep?.(result);
  }
  return results;
}
