import type { BrowserContext, Locator, Page } from 'playwright-core';
import { z } from 'zod';
import { NexoraError, describeError } from '../../errors.js';
import { BrowserConnection, type BrowserHost } from './browser-connection.js';
import { watchPage } from './page-watch.js';
import { settle, type SettleResult } from './settle.js';
import { viewSnapshot, type SnapshotView } from './snapshot-view.js';

/** What a browser tool call returns: text for the model, and what tests and logs need. */
export interface BrowserResult {
  text: string;
  /** One line for logs and the events table. */
  summary: string;
  png?: Buffer;
  /** How the wait after an action ended. */
  wait?: SettleResult;
  /** Set when the call had to start, restart or reconnect Chromium. */
  note?: string;
  /** The action failed in a way the model can act on (a stale ref, a timeout). */
  isError: boolean;
  snapshot?: SnapshotView;
}

export interface BrowserToolsOptions {
  host: BrowserHost;
  /** Bound on one action (click, type, …) and its wait. Default 10 s. */
  actionTimeoutMs?: number;
  /** Bound on a navigation and its wait. Default 30 s. */
  navigationTimeoutMs?: number;
  /** Longest snapshot text. Default 12,000 characters. */
  maxSnapshotChars?: number;
  connectTimeoutMs?: number;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Calls that only read the page: a person's take-over does not hold them. */
const readOnlyActions = new Set(['snapshot', 'screenshot', 'console', 'network errors', 'tabs list']);

/** What the page says about its scroll position (the page wrote it: validated). */
const scrollPosition = z.object({ y: z.number(), height: z.number(), viewport: z.number() });

type Step = (page: Page, timeoutMs: number) => Promise<{ text: string; summary: string; png?: Buffer; snapshot?: SnapshotView; settle?: number }>;

/**
 * The browser tools over one session's Chromium: navigation, tabs, snapshots with element
 * refs, actions by ref, screenshots, and what the page logged. Every action waits (bounded)
 * for the page to settle and says how the wait ended; every answer ends with where the
 * browser is and what the page reported since the last look.
 */
export class BrowserTools {
  private readonly connection: BrowserConnection;
  private readonly options: BrowserToolsOptions;
  private current: Page | undefined;
  private readonly snapshots = new WeakMap<Page, { url: string; text: string }>();
  private readonly watchedContexts = new WeakSet<BrowserContext>();
  private newTabs: Page[] = [];
  private actionGate: ((signal?: AbortSignal) => Promise<void>) | undefined;

  constructor(options: BrowserToolsOptions) {
    this.options = options;
    this.connection = new BrowserConnection({ host: options.host, ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}) });
  }

  /** The host-side DevTools proxy's URL with its token (after the first browser call). */
  get devtoolsUrl(): string | undefined {
    return this.connection.devtoolsUrl;
  }

  /** The address of the page the tools act on (undefined before the first call); read without a round trip. */
  get pageUrl(): string | undefined {
    return this.current && !this.current.isClosed() ? this.current.url() : undefined;
  }

  close(): void {
    this.connection.close();
  }

  navigate(options: CallOptions & { url: string }): Promise<BrowserResult> {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(options.url) ? options.url : `http://${options.url}`;
    return this.run('navigate', { ...options, timeoutMs: options.timeoutMs ?? this.navigationTimeout }, async (page, timeoutMs) => {
      // Only the response is awaited here; settle() then waits for the load, bounded, and says how it went.
      const response = await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs });
      const status = response ? ` (HTTP ${response.status()})` : '';
      return { text: `Navigated to ${url}${status}.`, summary: `navigate ${url}${status}`, settle: 0 };
    });
  }

  history(options: CallOptions & { action: 'back' | 'forward' | 'reload' }): Promise<BrowserResult> {
    return this.run(options.action, { ...options, timeoutMs: options.timeoutMs ?? this.navigationTimeout }, async (page, timeoutMs) => {
      const go = { waitUntil: 'commit' as const, timeout: timeoutMs };
      const response = options.action === 'back' ? await page.goBack(go) : options.action === 'forward' ? await page.goForward(go) : await page.reload(go);
      if (!response && options.action !== 'reload') return { text: `There is no page to go ${options.action} to.`, summary: `${options.action}: nothing` };
      return { text: `Went ${options.action === 'reload' ? 'nowhere: reloaded' : options.action}.`, summary: options.action, settle: 0 };
    });
  }

  tabs(options: CallOptions & { action: 'list' | 'open' | 'switch' | 'close'; index?: number; url?: string }): Promise<BrowserResult> {
    return this.run(`tabs ${options.action}`, options, async (page, timeoutMs) => {
      const context = page.context();
      const pages = context.pages();
      const pick = (): Page => {
        const chosen = options.index === undefined ? undefined : pages[options.index];
        if (!chosen) throw new NexoraError('invalid-argument', `There is no tab ${options.index ?? '(no index given)'}; the tabs are 0 to ${pages.length - 1}.`);
        return chosen;
      };
      if (options.action === 'open') {
        const opened = await context.newPage();
        this.newTabs = this.newTabs.filter((tab) => tab !== opened);
        this.current = opened;
        await opened.bringToFront();
        if (options.url) await opened.goto(options.url, { waitUntil: 'commit', timeout: timeoutMs });
        return { text: `Opened tab ${context.pages().indexOf(opened)}${options.url ? ` at ${options.url}` : ''}.\n${await tabList(context, opened)}`, summary: 'tab opened', settle: options.url ? 0 : undefined };
      }
      if (options.action === 'switch') {
        this.current = pick();
        await this.current.bringToFront();
        return { text: `Switched to tab ${options.index}.\n${await tabList(context, this.current)}`, summary: `tab ${options.index}` };
      }
      if (options.action === 'close') {
        const closing = pick();
        await closing.close();
        this.current = context.pages().at(-1) ?? (await context.newPage());
        await this.current.bringToFront();
        return { text: `Closed tab ${options.index}.\n${await tabList(context, this.current)}`, summary: `closed tab ${options.index}` };
      }
      return { text: await tabList(context, page), summary: `${pages.length} tabs` };
    });
  }

  snapshot(options: CallOptions & { ref?: string; full?: boolean } = {}): Promise<BrowserResult> {
    return this.run('snapshot', options, async (page, timeoutMs) => {
      const signal = options.signal;
      const raw = options.ref
        ? await (await this.byRef(page, options.ref)).ariaSnapshot({ mode: 'ai', timeout: timeoutMs, ...(signal ? { signal } : {}) })
        : await page.ariaSnapshot({ mode: 'ai', timeout: timeoutMs, ...(signal ? { signal } : {}) });
      const url = page.url();
      const previous = options.ref ? undefined : this.snapshots.get(page);
      const view = viewSnapshot({
        snapshot: raw,
        ...(previous && previous.url === url ? { previous: previous.text } : {}),
        full: options.full ?? false,
        maxChars: this.options.maxSnapshotChars ?? 12_000,
      });
      if (!options.ref) this.snapshots.set(page, { url, text: raw });
      const what = options.ref ? `Snapshot of ${options.ref}` : 'Snapshot';
      return { text: `${what} (use the [ref=…] values with browser_click/type/select):\n${view.text}`, summary: `snapshot: ${view.kind}, ${raw.length} chars${view.truncated ? ', truncated' : ''}`, snapshot: view };
    });
  }

  click(options: CallOptions & { ref: string; double?: boolean }): Promise<BrowserResult> {
    return this.run('click', options, async (page, timeoutMs) => {
      const target = await this.byRef(page, options.ref);
      if (options.double) await target.dblclick({ timeout: timeoutMs });
      else await target.click({ timeout: timeoutMs });
      return { text: `${options.double ? 'Double-clicked' : 'Clicked'} ${options.ref}.`, summary: `click ${options.ref}`, settle: 0 };
    });
  }

  type(options: CallOptions & { ref: string; text: string; submit?: boolean }): Promise<BrowserResult> {
    return this.run('type', options, async (page, timeoutMs) => {
      const target = await this.byRef(page, options.ref);
      await target.fill(options.text, { timeout: timeoutMs });
      if (options.submit) await target.press('Enter', { timeout: timeoutMs });
      return { text: `Typed ${options.text.length} characters into ${options.ref}${options.submit ? ' and pressed Enter' : ''}.`, summary: `type ${options.ref}${options.submit ? ' + submit' : ''}`, settle: 0 };
    });
  }

  select(options: CallOptions & { ref: string; values: string[] }): Promise<BrowserResult> {
    return this.run('select', options, async (page, timeoutMs) => {
      const chosen = await (await this.byRef(page, options.ref)).selectOption(options.values, { timeout: timeoutMs });
      return { text: `Selected ${chosen.map((value) => JSON.stringify(value)).join(', ') || 'nothing'} in ${options.ref}.`, summary: `select ${options.ref}`, settle: 0 };
    });
  }

  press(options: CallOptions & { key: string; ref?: string }): Promise<BrowserResult> {
    return this.run('press', options, async (page, timeoutMs) => {
      if (options.ref) await (await this.byRef(page, options.ref)).press(options.key, { timeout: timeoutMs });
      else await page.keyboard.press(options.key);
      return { text: `Pressed ${options.key}${options.ref ? ` in ${options.ref}` : ''}.`, summary: `press ${options.key}`, settle: 0 };
    });
  }

  scroll(options: CallOptions & { ref?: string; direction?: 'up' | 'down'; pages?: number }): Promise<BrowserResult> {
    return this.run('scroll', options, async (page, timeoutMs) => {
      if (options.ref) {
        await (await this.byRef(page, options.ref)).scrollIntoViewIfNeeded({ timeout: timeoutMs });
        return { text: `Scrolled ${options.ref} into view.`, summary: `scroll to ${options.ref}`, settle: 0 };
      }
      const sign = options.direction === 'up' ? -1 : 1;
      // A string, so no DOM types are needed here; `by` is a number this code computed.
      const by = sign * (options.pages ?? 1);
      const script = `(() => { window.scrollBy(0, ${by} * window.innerHeight * 0.9); return { y: Math.round(window.scrollY), height: document.documentElement.scrollHeight, viewport: window.innerHeight }; })()`;
      const position = scrollPosition.parse(await page.evaluate(script));
      return { text: `Scrolled ${options.direction ?? 'down'}: the viewport now shows y=${position.y}–${position.y + position.viewport} of ${position.height} px.`, summary: `scroll ${options.direction ?? 'down'}`, settle: 0 };
    });
  }

  screenshot(options: CallOptions & { fullPage?: boolean } = {}): Promise<BrowserResult> {
    return this.run('screenshot', options, async (page, timeoutMs) => {
      const png = await page.screenshot({ type: 'png', fullPage: options.fullPage ?? false, timeout: timeoutMs, caret: 'initial' });
      return { text: `Screenshot of the ${options.fullPage ? 'full page' : 'viewport'} (${png.length} bytes).`, summary: `screenshot ${options.fullPage ? 'full page' : 'viewport'}`, png };
    });
  }

  /** Console errors, warnings and uncaught exceptions of the current page since the last look. */
  console(options: CallOptions = {}): Promise<BrowserResult> {
    return this.run('console', options, (page) => {
      const entries = watchPage(page).console.drain();
      return Promise.resolve({ text: entries.length ? `Console since your last look:\n${entries.join('\n')}` : 'No console errors or warnings since your last look.', summary: `${entries.length} console entries` });
    });
  }

  /** Failed requests and HTTP error responses of the current page since the last look. */
  networkErrors(options: CallOptions = {}): Promise<BrowserResult> {
    return this.run('network errors', options, (page) => {
      const entries = watchPage(page).network.drain();
      return Promise.resolve({ text: entries.length ? `Network errors since your last look:\n${entries.join('\n')}` : 'No failed requests since your last look.', summary: `${entries.length} network errors` });
    });
  }

  private get navigationTimeout(): number {
    return this.options.navigationTimeoutMs ?? 30_000;
  }

  /** The element of a ref from the latest snapshot; an unknown ref is an error at once, not a wait. */
  private async byRef(page: Page, ref: string): Promise<Locator> {
    if (!/^[a-z0-9]{1,20}$/i.test(ref)) throw new NexoraError('invalid-argument', `"${ref}" is not a ref: use a value like e12 from the [ref=…] marks of browser_snapshot().`);
    const locator = page.getByRef(ref);
    if ((await locator.count()) === 0) {
      throw new NexoraError('invalid-argument', `There is no element ${ref} on the page now (refs come from the latest browser_snapshot(); the page may have changed): take a new snapshot.`);
    }
    return locator;
  }

  /** The page the tools act on, with the connection's note when it had to (re)connect. */
  private async page(signal?: AbortSignal): Promise<{ page: Page; note?: string }> {
    const { browser, note } = await this.connection.get(signal);
    if (note) this.current = undefined;
    const context = browser.contexts()[0];
    if (!context) throw new NexoraError('cdp-failed', 'Chromium has no browser context to work in.');
    if (!this.watchedContexts.has(context)) {
      this.watchedContexts.add(context);
      for (const page of context.pages()) watchPage(page);
      context.on('page', (page) => {
        watchPage(page);
        this.newTabs.push(page);
      });
    }
    if (!this.current || this.current.isClosed()) {
      this.current = context.pages().at(-1) ?? (await context.newPage());
      this.newTabs = this.newTabs.filter((page) => page !== this.current);
    }
    return note ? { page: this.current, note } : { page: this.current };
  }

  /**
   * Holds every action that changes the page (navigating, clicking, typing…) until `wait`
   * resolves: while a person has taken control of the display, the agent's browser waits as its
   * keyboard and mouse do. Reading the page (snapshot, screenshot, console) is not held.
   */
  holdActionsAt(wait: (signal?: AbortSignal) => Promise<void>): void {
    this.actionGate = wait;
  }

  private async run(name: string, options: CallOptions, step: Step): Promise<BrowserResult> {
    if (!readOnlyActions.has(name)) await this.actionGate?.(options.signal);
    const timeoutMs = options.timeoutMs ?? this.options.actionTimeoutMs ?? 10_000;
    const before = this.newTabs.length;
    const attempt = async (page: Page): Promise<{ outcome: Awaited<ReturnType<Step>> } | { error: unknown }> => {
      try {
        return { outcome: await step(page, timeoutMs) };
      } catch (error) {
        return { error };
      }
    };
    let { page, note } = await this.page(options.signal);
    let started = performance.now();
    let result = await attempt(page);
    if ('error' in result && !this.connection.connected && !options.signal?.aborted) {
      // Chromium died under this call (before its disconnect was noticed): get it back, once.
      ({ page, note } = await this.page(options.signal));
      started = performance.now();
      result = await attempt(page);
    }
    if ('error' in result) {
      const { error } = result;
      if (options.signal?.aborted) throw new NexoraError('aborted', 'The browser call was interrupted.', { cause: error });
      if (NexoraError.is(error) && error.code !== 'invalid-argument') throw error;
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const waitedMs = Math.round(performance.now() - started);
      const text = timedOut ? `Timed out: browser ${name} did not complete within ${timeoutMs} ms (${shortError(error)}).` : `browser ${name} failed: ${shortError(error)}`;
      const wait: SettleResult | undefined = timedOut ? { outcome: 'timeout', waitedMs, pending: watchPage(page).pending().slice(0, 5), description: text } : undefined;
      return {
        text: [note, text, await this.footer(page)].filter(Boolean).join('\n'),
        summary: text.slice(0, 120),
        isError: true,
        ...(wait ? { wait } : {}),
        ...(note ? { note } : {}),
      };
    }
    const { outcome } = result;
    const wait =
      outcome.settle !== undefined
        ? await settle({ page: this.current ?? page, watch: watchPage(this.current ?? page), timeoutMs: Math.max(1, timeoutMs - (performance.now() - started)), startedAt: performance.now(), ...(options.signal ? { signal: options.signal } : {}) })
        : undefined;
    const opened = this.newTabs.slice(before).filter((tab) => !tab.isClosed());
    const tabsNote = opened.length ? `The page opened ${opened.length} new tab(s): browser_tabs({ action: "list" }) to see them.` : '';
    const waitText = wait ? wait.description : '';
    const text = [note, outcome.text, waitText, tabsNote, await this.footer(this.current ?? page)].filter(Boolean).join('\n');
    return {
      text,
      summary: `${outcome.summary}${wait ? `, ${wait.outcome}` : ''}`,
      isError: wait?.outcome === 'timeout',
      ...(outcome.png ? { png: outcome.png } : {}),
      ...(wait ? { wait } : {}),
      ...(note ? { note } : {}),
      ...(outcome.snapshot ? { snapshot: outcome.snapshot } : {}),
    };
  }

  /** Where the browser is, and what the page reported that the model has not seen yet. */
  private async footer(page: Page): Promise<string> {
    if (page.isClosed()) return 'The page is closed.';
    const title = await Promise.race([page.title().catch(() => ''), new Promise<string>((resolve) => setTimeout(() => resolve(''), 500))]);
    const watch = watchPage(page);
    const unseen = [
      watch.console.size ? `${watch.console.size} console errors/warnings (browser_console)` : '',
      watch.network.size ? `${watch.network.size} failed requests (browser_network_errors)` : '',
    ].filter(Boolean);
    return `Page: ${title ? `"${title}" ` : ''}${page.url()}${unseen.length ? `\nNot yet read: ${unseen.join(', ')}.` : ''}`;
  }
}

/** The tabs, one a line, the current one marked. */
async function tabList(context: BrowserContext, current: Page): Promise<string> {
  const lines = await Promise.all(
    context.pages().map(async (page, index) => {
      const title = await Promise.race([page.title().catch(() => ''), new Promise<string>((resolve) => setTimeout(() => resolve(''), 500))]);
      return `${page === current ? '*' : ' '} [${index}] ${title ? `"${title}" ` : ''}${page.url()}`;
    }),
  );
  return `Tabs (* is current):\n${lines.join('\n')}`;
}

/** Playwright's errors carry a call log; the model needs the first line and a hint. */
function shortError(error: unknown): string {
  const message = describeError(error).split('\n')[0] ?? '';
  const stale = /aria-ref|getByRef|No element|not found/i.test(message) ? ' (the ref may be stale: take browser_snapshot() again)' : '';
  return `${message.replace(/^\w+\.\w+: /, '').slice(0, 300)}${stale}`;
}
