import type { Browser } from 'playwright-core';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import type { Workstation } from '../../workstation/workstation.js';
import { CdpProxy } from './cdp-proxy.js';
import { isDevtoolsTargetPath } from './devtools-target.js';

/** What the browser needs from a workstation: start Chromium, and streams into it. */
export type BrowserHost = Pick<Workstation, 'ensureBrowser' | 'attach'>;

export interface BrowserConnectionOptions {
  host: BrowserHost;
  /** Longest wait for Chromium to start and for the DevTools connection. Default 60 s (a loaded machine needs it). */
  connectTimeoutMs?: number;
}

/** A connected browser and what happened to get it, for the model ("Chromium restarted"). */
export interface ConnectedBrowser {
  browser: Browser;
  /** Set when this call started, restarted or reconnected the browser. */
  note?: string;
}

const versionSchema = z.object({ webSocketDebuggerUrl: z.string() }).passthrough();

/**
 * The session's browser connection: Chromium in the workstation (started on first use and
 * again when it died), reached through the token-guarded proxy over the Engine API, driven by
 * playwright-core's connectOverCDP. playwright-core was chosen over chrome-remote-interface
 * for its accessibility snapshots with element refs (`ariaSnapshot({ mode: 'ai' })`,
 * `getByRef`), actionability waits and navigation tracking, which a raw CDP client would have
 * us rewrite. Its connect can hang, so every step here has its own deadline.
 */
export class BrowserConnection {
  private readonly options: BrowserConnectionOptions;
  private proxy: CdpProxy | undefined;
  private devtoolsPort = 0;
  private browser: Browser | undefined;
  private connecting: Promise<ConnectedBrowser> | undefined;
  private everConnected = false;
  private closed = false;

  constructor(options: BrowserConnectionOptions) {
    this.options = options;
  }

  /** The browser, connecting (and starting Chromium) when there is no live connection. */
  get(signal?: AbortSignal): Promise<ConnectedBrowser> {
    if (this.closed) return Promise.reject(new NexoraError('cdp-failed', 'The browser connection is closed.'));
    if (this.browser?.isConnected()) return Promise.resolve({ browser: this.browser });
    this.connecting ??= this.connect(signal).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** True while the DevTools connection is up. */
  get connected(): boolean {
    return this.browser?.isConnected() ?? false;
  }

  /** The host-side proxy's base URL (with its token), once the browser was first used. */
  get devtoolsUrl(): string | undefined {
    return this.proxy?.httpUrl;
  }

  close(): void {
    this.closed = true;
    const browser = this.browser;
    this.browser = undefined;
    // Closing a CDP-connected browser only disconnects; Chromium keeps running in the workstation.
    if (browser) void browser.close().catch(() => undefined);
    this.proxy?.close();
  }

  private async connect(signal?: AbortSignal): Promise<ConnectedBrowser> {
    const timeoutMs = this.options.connectTimeoutMs ?? 60_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const bounded = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const endpoint = await this.options.host.ensureBrowser({ timeoutMs, signal: bounded });
    this.devtoolsPort = endpoint.port;
    this.proxy ??= await CdpProxy.start({
      openStream: () => this.options.host.attach({ cmd: ['socat', 'STDIO', `TCP:127.0.0.1:${this.devtoolsPort}`], cwd: '/' }),
    });
    const webSocketUrl = await this.browserWebSocketUrl(bounded);
    const { chromium } = await import('playwright-core');
    const connecting = chromium.connectOverCDP(webSocketUrl, { timeout: timeoutMs });
    let browser: Browser;
    try {
      browser = await abortable(connecting, bounded, `connecting to Chromium's DevTools protocol took over ${timeoutMs} ms`);
    } catch (error) {
      // A connection that completes after the deadline is dropped at once.
      void connecting.then((late) => late.close()).catch(() => undefined);
      if (error instanceof NexoraError) throw error;
      // playwright's message quotes what the other end sent, and that end is in the workstation.
      throw new NexoraError('cdp-failed', "The DevTools handshake with the workstation's browser failed (what answers there is not a working Chromium); the next browser call restarts it.", { cause: error });
    }
    if (this.closed) {
      void browser.close().catch(() => undefined);
      throw new NexoraError('cdp-failed', 'The browser connection was closed while connecting.');
    }
    const note = !this.everConnected
      ? endpoint.started
        ? 'Chromium started (first browser use in this session).'
        : undefined
      : endpoint.started
        ? 'Chromium was not running (it exited or was killed), so it was restarted: the tabs it had are gone.'
        : 'The connection to Chromium had dropped and was re-established; its tabs are as they were.';
    this.everConnected = true;
    this.browser = browser;
    return note ? { browser, note } : { browser };
  }

  /**
   * The browser target's address on Nexora's proxy. Only the target path is taken from the
   * workstation's answer; the host and port are always the proxy's, and nothing of the answer's
   * body is quoted in an error (it would reach the model and the logs).
   */
  private async browserWebSocketUrl(signal: AbortSignal): Promise<string> {
    const proxy = this.proxy!;
    let path: string | undefined;
    try {
      const response = await fetch(`${proxy.httpUrl}/json/version`, { signal });
      if (!response.ok) {
        await response.body?.cancel();
        throw new NexoraError('cdp-failed', `Chromium's DevTools endpoint answered /json/version with HTTP ${response.status}.`);
      }
      const version = versionSchema.safeParse(await response.json().catch(() => undefined));
      // The proxy has rebuilt the address on itself (or dropped it); check that it did.
      const ours = proxy.webSocketUrl('');
      const url = version.success ? version.data.webSocketDebuggerUrl : '';
      path = url.startsWith(ours) && isDevtoolsTargetPath(url.slice(ours.length)) ? url.slice(ours.length) : undefined;
    } catch (error) {
      if (error instanceof NexoraError) throw error;
      throw new NexoraError('cdp-failed', `Chromium's DevTools endpoint did not answer /json/version (${error instanceof Error ? error.name : 'error'}).`, { cause: error });
    }
    if (!path) throw new NexoraError('cdp-failed', "Chromium's DevTools endpoint answered /json/version without a browser target (/devtools/browser/<id>): what answers in the workstation is not Chromium.");
    return proxy.webSocketUrl(path);
  }
}

/** Settles with `promise`, or rejects with a timeout/abort error when `signal` fires first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, timeoutMessage: string): Promise<T> {
  if (signal.aborted) return Promise.reject(reasonOf(signal, timeoutMessage));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal, timeoutMessage));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function reasonOf(signal: AbortSignal, timeoutMessage: string): NexoraError {
  const reason: unknown = signal.reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') return new NexoraError('timeout', timeoutMessage);
  return new NexoraError('aborted', 'The browser call was interrupted.', { cause: reason });
}
