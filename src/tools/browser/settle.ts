import type { Page } from 'playwright-core';
import type { PageWatch } from './page-watch.js';

/** How waiting after a browser action ended. */
export type SettleOutcome =
  /** The page loaded and the network has been quiet. */
  | 'settled'
  /** The page loaded, but requests were still open when the network wait ran out (streams, polling). */
  | 'network-busy'
  /** The page did not finish loading before the timeout. */
  | 'timeout';

export interface SettleResult {
  outcome: SettleOutcome;
  waitedMs: number;
  /** Requests still in flight when the wait ended (at most a few). */
  pending: string[];
  /** One sentence for the model. */
  description: string;
}

export interface SettleOptions {
  page: Page;
  watch: PageWatch;
  /** Upper bound of the whole wait. */
  timeoutMs: number;
  /** Network quiet this long counts as settled. Default 150 ms. */
  quietMs?: number;
  /** Longest wait for the network once the page has loaded. Default 2 s. */
  networkWaitMs?: number;
  startedAt?: number;
  signal?: AbortSignal;
}

/**
 * Waits, bounded, until the page has loaded and its network is quiet, and says how the wait
 * ended. A page that keeps a request open for ever (a dev server's live-reload stream, long
 * polling) is not an error: after the load event the network wait is short and ends as
 * `network-busy` with the open requests named.
 */
export async function settle(options: SettleOptions): Promise<SettleResult> {
  const startedAt = options.startedAt ?? performance.now();
  const deadline = startedAt + options.timeoutMs;
  const quietMs = options.quietMs ?? 150;
  const { page, watch } = options;
  const finish = (outcome: SettleOutcome, what: string): SettleResult => {
    const waitedMs = Math.round(performance.now() - startedAt);
    const pending = watch.pending().slice(0, 5);
    const open = pending.length > 0 ? ` Still open: ${pending.join(', ')}.` : '';
    return { outcome, waitedMs, pending, description: `${what} after ${waitedMs} ms.${open}` };
  };

  // First the action's own effects: a navigation's document request (until it commits) and
  // the requests a script starts just after a click; then the load event of the current
  // document; then a short wait for the network.
  for (;;) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const now = performance.now();
    const navigating = watch.navigating(page);
    if (!navigating && (watch.quietForMs(startedAt, now) >= quietMs || now - startedAt >= 1000)) break;
    if (now >= deadline) {
      return finish('timeout', `Timed out: ${navigating ? 'the server had not answered the page request' : 'requests were still running'} within ${Math.round(options.timeoutMs)} ms`);
    }
    await sleep(Math.min(25, deadline - now));
  }
  const loaded = await documentComplete(page, deadline, options.signal);
  if (page.isClosed()) return finish('settled', 'The page closed');
  if (loaded === 'timeout') return finish('timeout', `Timed out: the page did not finish loading (no load event) within ${Math.round(options.timeoutMs)} ms`);
  const networkDeadline = Math.min(deadline, performance.now() + (options.networkWaitMs ?? 2000));
  const networkQuiet = await quiet({ watch, since: startedAt, quietMs, limitMs: networkDeadline - performance.now(), signal: options.signal });
  if (!networkQuiet) return finish('network-busy', 'Loaded, but the network was still busy');
  return finish('settled', 'Loaded and the network quiet');
}

/**
 * Polls `document.readyState` until it is "complete". Not Playwright's waitForLoadState: a
 * page restored from the back-forward cache never fires another load event, and would wait
 * until the deadline.
 */
async function documentComplete(page: Page, deadline: number, signal: AbortSignal | undefined): Promise<'done' | 'timeout'> {
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    if (page.isClosed()) return 'done';
    const remaining = deadline - performance.now();
    if (remaining <= 0) return 'timeout';
    // A navigation in progress destroys the context mid-call: that is "not yet", not an error.
    const state = await Promise.race([page.evaluate('document.readyState').catch(() => 'navigating'), sleep(Math.min(remaining, 1000)).then(() => 'slow')]);
    if (state === 'complete') return 'done';
    await sleep(Math.min(50, deadline - performance.now()));
  }
}

/** True once no request has been in flight for `quietMs`; false when `limitMs` ran out first. */
async function quiet(options: { watch: PageWatch; since: number; quietMs: number; limitMs: number; signal: AbortSignal | undefined }): Promise<boolean> {
  const until = performance.now() + Math.max(0, options.limitMs);
  for (;;) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const now = performance.now();
    if (options.watch.quietForMs(options.since, now) >= options.quietMs) return true;
    if (now >= until) return false;
    await sleep(Math.min(25, until - now));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
