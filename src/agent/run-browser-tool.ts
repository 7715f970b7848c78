import type { z } from 'zod';
import { NexoraError } from '../errors.js';
import type { BrowserResult, BrowserTools } from '../tools/browser/browser-tools.js';
import { browserInputs, type BrowserToolName } from './browser-tool-schemas.js';
import type { ToolOutcome } from './tool-outcome.js';
import { truncateHeadTail } from './truncate.js';

/** Runs one browser tool call; errors the model can act on come back as text (see runTool). */
export async function runBrowserTool(options: {
  browser: BrowserTools | undefined;
  name: BrowserToolName;
  input: unknown;
  wantImage: boolean;
  maxOutputChars: number;
  signal: AbortSignal;
}): Promise<ToolOutcome> {
  const { browser, name, signal } = options;
  if (!browser) return { text: 'There is no browser in this session.', summary: 'no browser', isError: true };
  const result = await call(browser, name, options.input, signal);
  const png = result.png && options.wantImage ? result.png : undefined;
  const note = result.png && !png ? '\n(The screenshot was not sent: this model does not take images. Use browser_snapshot() to read the page.)' : '';
  return { text: truncateHeadTail(result.text, options.maxOutputChars).text + note, ...(png ? { png } : {}), summary: result.summary, isError: result.isError };
}

function call(browser: BrowserTools, name: BrowserToolName, input: unknown, signal: AbortSignal): Promise<BrowserResult> {
  switch (name) {
    case 'browser_navigate': {
      const args = parse(browserInputs.browser_navigate, input, name);
      if (args.action) return browser.history({ action: args.action, timeoutMs: args.timeoutMs, signal });
      return browser.navigate({ url: args.url ?? 'about:blank', timeoutMs: args.timeoutMs, signal });
    }
    case 'browser_tabs':
      return browser.tabs({ ...parse(browserInputs.browser_tabs, input, name), signal });
    case 'browser_snapshot':
      return browser.snapshot({ ...parse(browserInputs.browser_snapshot, input, name), signal });
    case 'browser_click':
      return browser.click({ ...parse(browserInputs.browser_click, input, name), signal });
    case 'browser_type':
      return browser.type({ ...parse(browserInputs.browser_type, input, name), signal });
    case 'browser_select':
      return browser.select({ ...parse(browserInputs.browser_select, input, name), signal });
    case 'browser_press':
      return browser.press({ ...parse(browserInputs.browser_press, input, name), signal });
    case 'browser_scroll':
      return browser.scroll({ ...parse(browserInputs.browser_scroll, input, name), signal });
    case 'browser_screenshot':
      return browser.screenshot({ ...parse(browserInputs.browser_screenshot, input, name), signal });
    case 'browser_console':
      parse(browserInputs.browser_console, input, name);
      return browser.console({ signal });
    case 'browser_network_errors':
      parse(browserInputs.browser_network_errors, input, name);
      return browser.networkErrors({ signal });
  }
}

function parse<T extends z.ZodType>(schema: T, input: unknown, name: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
  throw new NexoraError('invalid-argument', `Invalid input for ${name}: ${problems}. Fix the arguments and call it again.`);
}
