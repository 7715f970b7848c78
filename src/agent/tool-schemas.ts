import { tool, type ToolSet } from 'ai';
import { z } from 'zod';
import type { KeyboardOptions } from '../tools/types.js';
import { browserModelTools } from './browser-tool-schemas.js';

/** The tools' inputs as the model sends them, validated at the boundary. */
export const screenInput = z.strictObject({
  full: z.boolean().optional().describe('Return the whole terminal text even if little changed since the last look.'),
  ocr: z.boolean().optional().describe('Also read text from the whole display by OCR (for non-terminal windows; slow).'),
  crop: z.enum(['changes']).optional().describe('"changes": the screenshot shows only the part of the display that changed since your last look.'),
});

export const keyboardInput = z
  .strictObject({
    text: z.string().optional().describe('Typed literally. "\\n" is Enter, "\\t" Tab, "\\u001b" Escape, "\\u0003" Ctrl+C.'),
    keys: z.array(z.string().min(1)).optional().describe('Named keys and chords pressed after the text, e.g. ["Escape"], ["ctrl+c"], ["Enter"].'),
    waitFor: z
      .string()
      .min(1)
      .optional()
      .describe('"input": wait until the program waits for input again (e.g. a long build back at its prompt), however quiet it is meanwhile. Any other text: wait until it appears on the terminal (matched literally). Default: until the program waits for input or the screen is quiet.'),
    timeoutMs: z.number().int().min(1).max(3_600_000).optional().describe('Longest wait (default 5000).'),
  })
  .refine((input) => (input.text !== undefined && input.text.length > 0) || (input.keys !== undefined && input.keys.length > 0), {
    message: 'give "text", "keys" or both',
  });

/**
 * The wait a keyboard call's `waitFor`/`timeoutMs` ask for, as the tools take it: "input" is the
 * program's prompt, any other text a pattern. One decoding for every door (the model's tool, the
 * API, MCP).
 */
export function keyboardWait(input: { waitFor?: string | undefined; timeoutMs?: number | undefined }): KeyboardOptions['wait'] {
  if (input.waitFor === 'input') return { waitFor: 'input', timeoutMs: input.timeoutMs };
  if (input.waitFor !== undefined) return { pattern: input.waitFor, timeoutMs: input.timeoutMs };
  return { timeoutMs: input.timeoutMs };
}

export const mouseInput = z.strictObject({
  action: z.enum(['move', 'click', 'double_click', 'right_click', 'drag', 'scroll']),
  x: z.number().int().min(0).describe('Pixels from the left of the display.'),
  y: z.number().int().min(0).describe('Pixels from the top of the display.'),
  toX: z.number().int().min(0).optional().describe('drag: where to release.'),
  toY: z.number().int().min(0).optional(),
  amount: z.number().int().optional().describe('scroll: wheel clicks, positive scrolls down.'),
  button: z.enum(['left', 'middle', 'right']).optional(),
});

export const executeInput = z.strictObject({
  command: z.string().min(1).describe('A bash command line, run in /workspace unless cwd says otherwise.'),
  cwd: z.string().optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional().describe('Kill the command after this long (default 60000).'),
});

export type ScreenInput = z.infer<typeof screenInput>;
export type KeyboardInput = z.infer<typeof keyboardInput>;
export type MouseInput = z.infer<typeof mouseInput>;
export type ExecuteInput = z.infer<typeof executeInput>;

export const toolNames = ['screen', 'keyboard', 'mouse', 'execute'] as const;
export type ToolName = (typeof toolNames)[number];

/**
 * The tools as the model sees them. They have no `execute`: the loop runs them itself, so it
 * controls retries, cancellation, events and what goes back to the model.
 */
export function modelTools(): ToolSet {
  return {
    screen: tool({
      description: 'Look at the display: the terminal text (what changed since your last look, or all of it) and a screenshot when it changed.',
      inputSchema: screenInput,
    }),
    keyboard: tool({
      description: 'Type into the focused window (the terminal) and wait until the screen settles; returns what changed on the screen.',
      inputSchema: keyboardInput,
    }),
    mouse: tool({
      description: 'Move, click, drag or scroll the mouse on the display (pixel coordinates of the latest screenshot, which may be scaled down from the display).',
      inputSchema: mouseInput,
    }),
    execute: tool({
      description: 'Run a shell command on a side channel (not the visible terminal): stdout, stderr, exit code, duration.',
      inputSchema: executeInput,
    }),
    ...browserModelTools(),
  };
}
