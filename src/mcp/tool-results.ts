import { frameToolOutput } from '../agent/tool-output-frame.js';
import type { ExecuteResult, KeyboardResult, MouseResult, Screen, SessionInfo } from '../sdk/api-types.js';

/** An MCP tool result: text and image content, and whether the call failed. */
export interface McpToolResult {
  [key: string]: unknown;
  content: ({ type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string })[];
  isError?: boolean;
}

/**
 * Everything the workstation shows or prints is untrusted: it reaches the calling model inside
 * the same `<tool-output>` frame the agent's own model gets, so it reads as data.
 */
export function textResult(text: string, options: { isError?: boolean } = {}): McpToolResult {
  return { content: [{ type: 'text', text }], ...(options.isError ? { isError: true } : {}) };
}

export function screenResult(screen: Screen, sessionId: string): McpToolResult {
  const header = `Session ${sessionId}, display ${screen.width}×${screen.height}, cursor at column ${screen.cursor.column}, row ${screen.cursor.row}; ${screen.changes.summary} since the last look (${screen.timestamp}).`;
  const ocr = screen.ocrText ? `\n\nText read by OCR from the whole display:\n${frameToolOutput('screen', screen.ocrText)}` : '';
  const content: McpToolResult['content'] = [{ type: 'text', text: `${header}\nThe terminal:\n${frameToolOutput('screen', screen.text)}${ocr}` }];
  if (screen.png) content.push({ type: 'image', data: screen.png.toString('base64'), mimeType: 'image/png' });
  return { content };
}

const waitEnds: Record<string, string> = {
  input: 'the program waits for input',
  pattern: 'the text appeared',
  quiet: 'the screen was quiet',
  exited: "the terminal's shell exited",
  timeout: 'the wait timed out',
};

export function keyboardResult(result: KeyboardResult): McpToolResult {
  const ended = waitEnds[result.wait.outcome] ?? 'no wait';
  const program = result.program ? `; ${result.program.summary}` : '';
  const changed = result.screen.changes.changedLines.length > 0 && !result.screen.changes.firstLook
    ? `What changed (${result.screen.changes.summary}):\n${frameToolOutput('keyboard', result.screen.changes.changedLines.map((line) => `${String(line.row).padStart(3)}│ ${line.text}`).join('\n'))}\n`
    : '';
  return textResult(`${result.keystrokes} key presses sent; ${ended} after ${Math.round(result.wait.waitedMs)} ms${program}.\n${changed}The terminal now:\n${frameToolOutput('keyboard', result.screen.text)}`);
}

export function mouseResult(result: MouseResult): McpToolResult {
  return textResult(`${result.action} at (${result.x}, ${result.y}); the screen ${result.wait.outcome} after ${Math.round(result.wait.waitedMs)} ms. Call screen to see the effect.`);
}

/** A command that failed or timed out is a tool error, as it is for the agent's model. */
export function executeResult(result: ExecuteResult): McpToolResult {
  const status = result.timedOut ? `timed out after ${Math.round(result.durationMs)} ms (killed)` : `exit code ${result.exitCode ?? 'none'} after ${Math.round(result.durationMs)} ms`;
  const body = !result.stdout && !result.stderr
    ? '(the command printed nothing)'
    : `${result.stdout ? `stdout:\n${result.stdout}` : '(no stdout)'}\n${result.stderr ? `stderr:\n${result.stderr}` : '(no stderr)'}`;
  return textResult(`${status}${result.truncated ? ' (output truncated at the source)' : ''}\n${frameToolOutput('execute', body)}`, { isError: result.timedOut || result.exitCode !== 0 });
}

export function sessionLine(session: SessionInfo, current: string | undefined): string {
  const mark = session.id === current ? ' (this client’s session)' : '';
  return `${session.id}  ${session.status}${session.containerState ? ` (${session.containerState})` : ''}  ${session.workspaceDir ?? '-'}  since ${session.createdAt}${mark}`;
}
