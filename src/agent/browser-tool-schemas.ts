import { tool, type ToolSet } from 'ai';
import { z } from 'zod';

const ref = z.string().min(1).max(20).describe('An element ref from the latest browser_snapshot(), e.g. "e12".');
const timeoutMs = z.number().int().min(100).max(120_000).optional().describe('Longest wait for the action and the page to settle.');

/** The browser tools' inputs as the model sends them, validated at the boundary. */
export const browserInputs = {
  browser_navigate: z
    .strictObject({
      url: z.string().min(1).max(4000).optional().describe('Where to go; "localhost:3000" means http://localhost:3000 inside the workstation.'),
      action: z.enum(['back', 'forward', 'reload']).optional().describe('Instead of a url: go back, forward, or reload.'),
      timeoutMs,
    })
    .refine((input) => (input.url === undefined) !== (input.action === undefined), { message: 'give either "url" or "action"' }),
  browser_tabs: z.strictObject({
    action: z.enum(['list', 'open', 'switch', 'close']),
    index: z.number().int().min(0).optional().describe('switch/close: the tab number from the list.'),
    url: z.string().min(1).max(4000).optional().describe('open: a page to load in the new tab.'),
  }),
  browser_snapshot: z.strictObject({
    ref: ref.optional().describe('Only this element and what is inside it.'),
    full: z.boolean().optional().describe('The whole snapshot even if little changed since your last one.'),
  }),
  browser_click: z.strictObject({ ref, double: z.boolean().optional(), timeoutMs }),
  browser_type: z.strictObject({
    ref,
    text: z.string().max(100_000).describe('Replaces the field\'s content.'),
    submit: z.boolean().optional().describe('Press Enter afterwards.'),
    timeoutMs,
  }),
  browser_select: z.strictObject({ ref, values: z.array(z.string()).min(1).describe('Option values or labels.'), timeoutMs }),
  browser_press: z.strictObject({
    key: z.string().min(1).max(50).describe('A key or chord: "Enter", "Escape", "Tab", "ArrowDown", "Control+a".'),
    ref: ref.optional().describe('Focus this element first.'),
    timeoutMs,
  }),
  browser_scroll: z.strictObject({
    ref: ref.optional().describe('Scroll this element into view.'),
    direction: z.enum(['up', 'down']).optional(),
    pages: z.number().min(0.1).max(20).optional().describe('How many viewport heights (default 1).'),
  }),
  browser_screenshot: z.strictObject({ fullPage: z.boolean().optional().describe('The whole page instead of the viewport.') }),
  browser_console: z.strictObject({}),
  browser_network_errors: z.strictObject({}),
} as const;

export type BrowserToolName = keyof typeof browserInputs;

export function isBrowserTool(name: string): name is BrowserToolName {
  return Object.hasOwn(browserInputs, name);
}

const descriptions: Record<BrowserToolName, string> = {
  browser_navigate: 'Open a URL in the workstation\'s Chromium (or go back/forward/reload); waits for the page to load, bounded, and says how the wait ended.',
  browser_tabs: 'List, open, switch to or close browser tabs.',
  browser_snapshot: 'Read the current page as an accessibility outline with element refs ([ref=e12]) and visible text; after the first look, only what changed.',
  browser_click: 'Click an element by its ref from browser_snapshot(); waits for the page to settle.',
  browser_type: 'Fill a text field by ref (replacing its content), optionally pressing Enter to submit.',
  browser_select: 'Choose options in a <select> by ref.',
  browser_press: 'Press a key or chord in the page (or in an element by ref).',
  browser_scroll: 'Scroll the page by viewport heights, or an element into view.',
  browser_screenshot: 'A PNG of the page (viewport or full page).',
  browser_console: 'Console errors, warnings and uncaught exceptions since your last call.',
  browser_network_errors: 'Failed requests and HTTP error responses since your last call.',
};

/** The browser tools as the model sees them (the loop runs them itself). */
export function browserModelTools(): ToolSet {
  const tools: ToolSet = {};
  for (const name of Object.keys(browserInputs) as BrowserToolName[]) {
    tools[name] = tool({ description: descriptions[name], inputSchema: browserInputs[name] as z.ZodType<unknown> });
  }
  return tools;
}
