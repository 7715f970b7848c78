import type { Page, Request } from 'playwright-core';

const maxEntries = 200;
const maxEntryChars = 500;

/** A bounded list that remembers how many entries it had to drop. */
class BoundedLog {
  private entries: string[] = [];
  private dropped = 0;

  push(entry: string): void {
    this.entries.push(entry.length > maxEntryChars ? `${entry.slice(0, maxEntryChars)}…` : entry);
    if (this.entries.length > maxEntries) {
      this.entries.shift();
      this.dropped++;
    }
  }

  get size(): number {
    return this.entries.length + this.dropped;
  }

  /** Everything since the last drain, oldest first, with a line for what was dropped. */
  drain(): string[] {
    const out = this.dropped > 0 ? [`(${this.dropped} earlier entries dropped)`, ...this.entries] : this.entries;
    this.entries = [];
    this.dropped = 0;
    return out;
  }
}

/**
 * What one page reported since the model last looked: console errors and warnings, uncaught
 * exceptions, failed requests and HTTP errors, and the requests still in flight (for waiting).
 * Everything here is written by the page, so it is bounded and treated as data.
 */
export class PageWatch {
  readonly console = new BoundedLog();
  readonly network = new BoundedLog();
  private readonly inflight = new Set<Request>();
  private readonly answered = new WeakSet<Request>();
  private lastActivity = performance.now();

  constructor(page: Page) {
    page.on('console', (message) => {
      const type = message.type();
      if (type !== 'error' && type !== 'warning' && type !== 'assert') return;
      const location = message.location();
      const where = location.url ? ` (${location.url}:${location.lineNumber + 1})` : '';
      this.console.push(`${type}: ${message.text()}${where}`);
    });
    page.on('pageerror', (error) => this.console.push(`uncaught exception: ${error.message}`));
    page.on('request', (request) => {
      this.inflight.add(request);
      this.lastActivity = performance.now();
    });
    const done = (request: Request): void => {
      this.inflight.delete(request);
      this.lastActivity = performance.now();
    };
    page.on('requestfinished', done);
    page.on('requestfailed', (request) => {
      done(request);
      const reason = request.failure()?.errorText ?? 'unknown error';
      // Requests a navigation or the page itself cancelled are not errors worth reporting.
      if (reason === 'net::ERR_ABORTED') return;
      this.network.push(`${request.method()} ${request.url()} failed: ${reason}`);
    });
    page.on('response', (response) => {
      this.answered.add(response.request());
      if (response.status() >= 400) this.network.push(`${response.status()} ${response.statusText()} for ${response.request().method()} ${response.url()}`);
    });
    // A navigation abandons the old document's requests without always failing them.
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) return;
      for (const request of this.inflight) if (request.frame() === frame && request.isNavigationRequest() === false) this.inflight.delete(request);
    });
  }

  /** Requests still in flight, oldest first. */
  pending(): string[] {
    return [...this.inflight].map((request) => `${request.method()} ${request.url()}`);
  }

  /** Milliseconds since `since` or the last request's start or end, when none is in flight; 0 while busy. */
  quietForMs(since: number, now = performance.now()): number {
    return this.inflight.size > 0 ? 0 : now - Math.max(since, this.lastActivity);
  }

  /** True while a document request of the page's main frame has no answer yet (a navigation before commit). */
  navigating(page: Page): boolean {
    for (const request of this.inflight) if (request.isNavigationRequest() && !this.answered.has(request) && request.frame() === page.mainFrame()) return true;
    return false;
  }
}

const watches = new WeakMap<Page, PageWatch>();

/** The page's watch, created the first time the page is seen. */
export function watchPage(page: Page): PageWatch {
  let watch = watches.get(page);
  if (!watch) {
    watch = new PageWatch(page);
    watches.set(page, watch);
  }
  return watch;
}
