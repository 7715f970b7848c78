import type { ApprovalRequest } from '../agent/approval.js';
import { visibleControls } from '../visible-controls.js';

/** An approval question as a person reads it, the same at the terminal and in the TUI. */
export interface ApprovalPrompt {
  /** `⚠ The agent wants to run:` */
  heading: string;
  /** The exact command on one line between « », every control and invisible character visible. */
  command: string;
  /** What the one-line form changed (line breaks joined, hidden characters shown) and where it runs. */
  notes: string[];
  /** `because it …` */
  because: string;
}

/**
 * The question for one approval request. The command came from the model: shown raw, a CR or
 * an escape sequence in it can make `rm -rf ~ #\r\x1b[2K    npm test` look like `npm test`,
 * so it is shown on one line, quoted, with what the terminal would hide spelled out.
 */
export function approvalPrompt(request: ApprovalRequest): ApprovalPrompt {
  const command = visibleControls(request.command, { oneLine: true });
  const lines = request.command.split('\n').length;
  // Newlines and tabs are noted on their own: anything else the one-line form changed was hidden.
  const spaced = request.command.replace(/[\n\t]/g, ' ');
  const hidden = visibleControls(spaced, { oneLine: true }) !== spaced;
  const notes = [
    ...(lines > 1 ? [`It is ${lines} lines, joined here: ␤ marks each line break.`] : []),
    ...(hidden ? ['It contains characters a terminal would act on or hide, shown here as ␛ (escape), ␍ (carriage return), ␇, ␈, <U+202E>…: read it as written.'] : []),
    ...(request.cwd !== undefined ? [`It runs in ${visibleControls(request.cwd, { oneLine: true })}.`] : []),
  ];
  return {
    heading: `⚠ The agent wants to ${request.tool === 'execute' ? 'run' : 'type and submit'}:`,
    command: `«${command}»`,
    notes,
    because: `because it ${visibleControls(request.reasons.join('; '), { oneLine: true })}.`,
  };
}
