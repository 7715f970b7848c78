import { diffScreens } from '../tools/screen-diff.js';
import type { KeyboardOptions, KeyboardResult, PromptLine, ScreenChanges, VisualTools } from '../tools/types.js';
import type { ApprovalGuard } from './approval.js';
import { keyboardSegments, type KeyRun } from './keyboard-keys.js';

/** The wait after the keys before an Enter: long enough for the shell to echo them. */
const echoWait = { quietMs: 120, timeoutMs: 3000 } as const;
const stableReads = 4;

/**
 * A keyboard call under the approval policy: its control keys judged before anything is sent;
 * then, at every Enter, the keys before it typed, the line the terminal now shows read back and
 * judged, and only then the Enter sent. The line is what the shell will run, however it got
 * there (yanked, recalled, edited with Home and arrows, typed in pieces across calls).
 */
export async function guardedKeyboard(options: {
  tools: VisualTools;
  input: { text?: string; keys?: string[] };
  wait: KeyboardOptions['wait'];
  approval: ApprovalGuard;
  signal: AbortSignal;
}): Promise<{ result: KeyboardResult; keystrokes: number } | { refusal: string; keystrokes: number }> {
  const { tools, approval, signal } = options;
  const keysRefusal = await approval.checkKeyboardKeys(options.input, { signal });
  if (keysRefusal !== undefined) return { refusal: keysRefusal, keystrokes: 0 };
  const segments = keyboardSegments(options.input);
  let keystrokes = 0;
  let last: KeyboardResult | undefined;
  const changes: ScreenChanges[] = [];
  const send = async (run: KeyRun, final: boolean): Promise<void> => {
    last = await tools.keyboard({ ...run, wait: final ? options.wait : echoWait, signal });
    keystrokes += last.keystrokes;
    changes.push(last.screen.changes);
  };
  for (const [position, segment] of segments.entries()) {
    const final = position === segments.length - 1;
    if (segment.before) await send(segment.before, final && !segment.accept);
    approval.noteTyped(segment);
    if (!segment.accept) continue;
    const refusal = await approval.checkSubmit(await readSteadyLine(tools, signal), { signal });
    if (refusal !== undefined) {
      const typed = keystrokes > 0 ? ` ${keystrokes} key presses before it were sent: what they typed is still on the terminal's line, not submitted.` : '';
      return { refusal: `${refusal}${typed}`, keystrokes };
    }
    await send(segment.accept, final);
  }
  // Each send moved the "changed since the last look" baseline: report what the whole call changed.
  const result = last!;
  return { result: { ...result, screen: { ...result.screen, changes: changedOverAll(changes, result.screen.text.split('\n')) } }, keystrokes };
}

/** The rows any of the sends changed, with their text at the end (as one look before and one after would show). */
function changedOverAll(changes: readonly ScreenChanges[], rows: readonly string[]): ScreenChanges {
  if (changes.length <= 1) return changes[0] ?? diffScreens(rows, rows);
  if (changes[0]?.firstLook) return diffScreens(undefined, rows);
  const changed = new Set(changes.flatMap((change) => change.changedLines.map((line) => line.row)));
  return diffScreens(rows.map((row, index) => (changed.has(index) ? `\u0000${row}` : row)), rows);
}

/**
 * The terminal's cursor line once it reads the same twice in a row (the shell may still be
 * echoing); undefined when the tools cannot read it or it keeps changing.
 */
async function readSteadyLine(tools: VisualTools, signal: AbortSignal): Promise<PromptLine | undefined> {
  if (!tools.promptLine) return undefined;
  let previous: PromptLine | undefined;
  for (let attempt = 0; attempt < stableReads; attempt++) {
    let line: PromptLine;
    try {
      line = await tools.promptLine({ signal });
    } catch {
      return undefined;
    }
    if (previous && previous.text === line.text && previous.program === line.program && previous.above.join('\n') === line.above.join('\n')) return line;
    previous = line;
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  return undefined;
}
