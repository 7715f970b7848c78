import type { z } from 'zod';
import { describeError, NexoraError } from '../errors.js';
import type { VisualTools } from '../tools/types.js';
import type { ApprovalGuard } from './approval.js';
import { isBrowserTool } from './browser-tool-schemas.js';
import { guardedKeyboard } from './guarded-keyboard.js';
import { runBrowserTool } from './run-browser-tool.js';
import type { ScreenContext } from './screen-text.js';
import { frameToolOutput } from './tool-output-frame.js';
import { executeInput, keyboardInput, keyboardWait, mouseInput, screenInput, type ToolName } from './tool-schemas.js';
import type { ToolOutcome } from './tool-outcome.js';
import { truncateHeadTail } from './truncate.js';


/** What ended a keyboard() wait, in words. */
function describeWaitEnd(outcome: string): string {
  switch (outcome) {
    case 'input':
      return 'the program waits for input';
    case 'pattern':
      return 'the text appeared';
    case 'quiet':
      return 'the screen was quiet';
    case 'exited':
      return "the terminal's shell exited";
    case 'timeout':
      return 'the wait timed out';
    default:
      return 'no wait';
  }
}

/**
 * Runs one tool call against the workstation. Failures the model can act on (bad input, a
 * command that failed, a timeout) come back as error text; an interrupt is thrown.
 */
export async function runTool(options: {
  tools: VisualTools;
  name: string;
  input: unknown;
  screens: ScreenContext;
  wantImage: boolean;
  maxOutputChars: number;
  signal: AbortSignal;
  /** The run's approval policy: commands, submitted lines, clicks and browser actions may need a person's yes. */
  approval?: ApprovalGuard;
}): Promise<ToolOutcome> {
  const { tools, name, input, screens, signal } = options;
  try {
    switch (name as ToolName) {
      case 'screen': {
        const args = parse(screenInput, input, name);
        const screen = await tools.screen({ image: options.wantImage, ocr: args.ocr ?? false, ...(args.crop ? { crop: args.crop } : {}), signal });
        const text = truncateHeadTail(screens.describeScreen(screen, args.full ?? false), options.maxOutputChars).text;
        const png = options.wantImage && screen.png && screens.isNewImage(screen.png) ? screen.png : undefined;
        const note = options.wantImage && screen.png && !png ? '\n(The screenshot is the same as the last one you were sent.)' : '';
        return { text: frameToolOutput(name, text) + note, png, summary: screen.changes.summary, isError: false };
      }
      case 'keyboard': {
        const args = parse(keyboardInput, input, name);
        const wait = keyboardWait(args);
        const keys = { ...(args.text !== undefined ? { text: args.text } : {}), ...(args.keys ? { keys: args.keys } : {}) };
        const guarded = options.approval && options.approval.mode !== 'never' ? await guardedKeyboard({ tools, input: keys, wait, approval: options.approval, signal }) : undefined;
        if (guarded && 'refusal' in guarded) return refused(guarded.refusal);
        const result = guarded ? guarded.result : await tools.keyboard({ ...keys, wait, signal });
        const keystrokes = guarded ? guarded.keystrokes : result.keystrokes;
        const waited = `${keystrokes} key presses sent; ${describeWaitEnd(result.wait.outcome)} after ${Math.round(result.wait.waitedMs)} ms${result.program ? `; ${result.program.summary}` : ''}.`;
        const text = `${waited}\n${frameToolOutput(name, truncateHeadTail(screens.describeAfterInput(result.screen), options.maxOutputChars).text)}`;
        return { text, summary: `${keystrokes} keys, ${result.screen.changes.summary}`, isError: false };
      }
      case 'mouse': {
        const args = parse(mouseInput, input, name);
        if (options.approval && options.approval.mode !== 'never' && args.action !== 'move' && args.action !== 'scroll') {
          const windows = tools.displayWindows ? await tools.displayWindows({ signal }).catch(() => undefined) : undefined;
          const refusal = await options.approval.checkMouse(args, windows, { signal });
          if (refusal !== undefined) return refused(refusal);
        }
        const result = await tools.mouse({ ...args, signal });
        return {
          text: `${result.action} at (${result.x}, ${result.y}); the screen ${result.wait.outcome} after ${Math.round(result.wait.waitedMs)} ms. Call screen() to see the effect.`,
          summary: `${result.action} (${result.x}, ${result.y})`,
          isError: false,
        };
      }
      case 'execute': {
        const args = parse(executeInput, input, name);
        const refusal = await options.approval?.checkExecute(args.command, { ...(args.cwd !== undefined ? { cwd: args.cwd } : {}), signal });
        if (refusal !== undefined) return refused(refusal);
        const result = await tools.execute(args.command, { cwd: args.cwd, timeoutMs: args.timeoutMs ?? 60_000, signal });
        const half = Math.floor(options.maxOutputChars / 2);
        const stdout = truncateHeadTail(result.stdout, result.stderr ? half : options.maxOutputChars).text;
        const stderr = truncateHeadTail(result.stderr, result.stdout ? half : options.maxOutputChars).text;
        // A cancelled command comes back as a result: say why it ended (a resumed conversation shows it).
        const status = signal.aborted
          ? `interrupted by the user after ${Math.round(result.durationMs)} ms (killed)`
          : result.timedOut
            ? `timed out after ${Math.round(result.durationMs)} ms (killed)`
            : `exit code ${result.exitCode ?? 'none'} after ${Math.round(result.durationMs)} ms`;
        const body =
          !result.stdout && !result.stderr
            ? '(the command printed nothing)'
            : `${result.stdout ? `stdout:\n${stdout}` : '(no stdout)'}\n${result.stderr ? `stderr:\n${stderr}` : '(no stderr)'}`;
        return {
          text: `${status}${result.truncated ? ' (output truncated at the source)' : ''}\n${frameToolOutput(name, body)}`,
          summary: `${status}, ${result.stdout.length} B stdout, ${result.stderr.length} B stderr`,
          isError: result.timedOut || result.exitCode !== 0,
        };
      }
      default:
        if (isBrowserTool(name)) {
          const approval = options.approval;
          const refusal =
            approval && approval.mode !== 'never' && typeof input === 'object' && input !== null
              ? await approval.checkBrowser({ name, input: input as Record<string, unknown> }, { url: tools.browser?.pageUrl }, { signal })
              : undefined;
          if (refusal !== undefined) return refused(refusal);
          return await runBrowserTool({ browser: tools.browser, name, input, wantImage: options.wantImage, maxOutputChars: options.maxOutputChars, signal });
        }
        return { text: `There is no tool "${name}". The tools are screen, keyboard, mouse, execute and the browser_* tools.`, summary: 'unknown tool', isError: true };
    }
  } catch (error) {
    if (signal.aborted || NexoraError.is(error, 'aborted')) throw new NexoraError('aborted', 'The run was interrupted.', { cause: error });
    if (NexoraError.is(error, 'invalid-argument')) return { text: error.message, summary: 'invalid input', isError: true };
    // A lost workstation is not something the model can fix: end the run with the reason.
    if (fatalCodes.some((code) => NexoraError.is(error, code))) throw error;
    // A failing tool is news for the model, not the end of the run.
    return { text: `The ${name} tool failed: ${describeError(error)}`, summary: `failed: ${describeError(error).slice(0, 120)}`, isError: true };
  }
}

function refused(text: string): ToolOutcome {
  return { text, summary: 'not run: refused by the approval policy', isError: true };
}

const fatalCodes = ['rfb-closed', 'rfb-protocol', 'workstation-failed', 'workstation-not-ready', 'docker-unavailable'] as const;

function parse<T extends z.ZodType>(schema: T, input: unknown, name: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
  throw new NexoraError('invalid-argument', `Invalid input for ${name}: ${problems}. Fix the arguments and call it again.`);
}
