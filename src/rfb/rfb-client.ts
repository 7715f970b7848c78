import { EventEmitter } from 'node:events';
import { NexoraError, describeError } from '../errors.js';
import { encodeClientCutText, encodePointerEvent, writeKeyEvent } from './client-messages.js';
import { checkConnectOptions } from './connect-options.js';
import { RfbConnection, type RfbStats } from './connection.js';
import { DirtyRegion, type RfbRect } from './dirty-region.js';
import { defaultPixelEncodings, encodingList, type RfbPixelEncoding } from './encodings.js';
import { FramebufferMirror } from './framebuffer-mirror.js';
import type { KeyEvent } from './keysyms.js';
import { defaultRfbLimits, type RfbLimits } from './limits.js';
import { UpdateWaiter, type RfbWaitResult, type WaitForQuietOptions, type WaitForUpdateOptions } from './update-waiter.js';

/** Reconnection after the connection drops (not after protocol or authentication errors). */
export interface RfbReconnectOptions {
  /** Attempts before giving up; default 5. */
  attempts?: number;
  /** Delay before the first attempt, doubled each time; default 100 ms. */
  initialDelayMs?: number;
  /** Longest delay between attempts; default 2000 ms. */
  maxDelayMs?: number;
}

export interface RfbConnectOptions {
  host: string;
  port: number;
  password?: string;
  signal?: AbortSignal;
  /** Connect + handshake deadline, per attempt; default 10 s. */
  timeoutMs?: number;
  /** `false` to close on the first drop; default on with the defaults above. */
  reconnect?: RfbReconnectOptions | false;
  /** Pixel encodings to offer, best first. */
  encodings?: readonly RfbPixelEncoding[];
  limits?: Partial<RfbLimits>;
}

/** A copy of the mirror at one moment. */
export interface RfbSnapshot {
  width: number;
  height: number;
  /** RGBA, width × height × 4 bytes. */
  data: Buffer;
  /** performance.now() of the last change it contains. */
  lastUpdateAt: number;
}

/** Events, named noun-action. */
export interface RfbClientEvents {
  'rfb-framebuffer-update': [{ rects: RfbRect[]; at: number }];
  'rfb-desktop-resize': [{ width: number; height: number }];
  'rfb-bell-ring': [];
  'rfb-cut-text-receive': [{ text: string }];
  'rfb-connection-lost': [{ error: NexoraError }];
  'rfb-connection-restored': [{ attempt: number }];
  'rfb-connection-closed': [{ error?: NexoraError }];
}

export type RfbClientState = 'connected' | 'reconnecting' | 'closed';

/**
 * One persistent RFB connection with a host-side framebuffer mirror that the server keeps
 * current (an incremental update is always outstanding), so reading the screen needs no
 * round trip. Reconnects with backoff when the connection drops.
 */
export class RfbClient extends EventEmitter<RfbClientEvents> {
  readonly #options: RfbConnectOptions;
  readonly #limits: RfbLimits;
  readonly #encodings: number[];
  readonly #mirror = new FramebufferMirror(0, 0);
  readonly #waiter = new UpdateWaiter();
  readonly #trackers = new Set<DirtyRegion>();
  readonly #stats: RfbStats = { updates: 0, rectsByEncoding: {}, bytesReceived: 0, applyMs: 0 };
  #connection: RfbConnection | undefined;
  #state: RfbClientState = 'connected';
  #closeError: NexoraError | undefined;
  #reconnectAbort = new AbortController();
  name = '';

  private constructor(options: RfbConnectOptions) {
    super();
    this.#options = options;
    this.#limits = { ...defaultRfbLimits, ...options.limits };
    this.#encodings = encodingList(options.encodings ?? defaultPixelEncodings);
  }

  /** Connects, authenticates and starts mirroring; rejects with a NexoraError. */
  static async connect(options: RfbConnectOptions): Promise<RfbClient> {
    checkConnectOptions({ ...options, signal: undefined });
    const client = new RfbClient(options);
    await client.#open(options.signal);
    return client;
  }

  get width(): number {
    return this.#mirror.width;
  }

  get height(): number {
    return this.#mirror.height;
  }

  /** The live mirror (RGBA). It changes under you; use snapshot() for a stable copy. */
  get framebuffer(): Buffer {
    return this.#mirror.data;
  }

  /** performance.now() of the last update that changed pixels (0 before the first). */
  get lastUpdateAt(): number {
    return this.#waiter.lastUpdateAt;
  }

  get state(): RfbClientState {
    return this.#state;
  }

  /** Why the client closed (rfb-closed for close()), or undefined while it is open. */
  get closeError(): NexoraError | undefined {
    return this.#state === 'closed' ? this.#closeError : undefined;
  }

  /** Traffic counters since connect (a copy). */
  get stats(): RfbStats {
    return { ...this.#stats, rectsByEncoding: { ...this.#stats.rectsByEncoding } };
  }

  snapshot(): RfbSnapshot {
    return { width: this.width, height: this.height, data: Buffer.from(this.#mirror.data), lastUpdateAt: this.lastUpdateAt };
  }

  /** A tracker of changed rectangles from now on; take() returns and resets them. Call dispose() when done. */
  trackChanges(): DirtyRegion & { dispose(): void } {
    const tracker = Object.assign(new DirtyRegion(), { dispose: () => this.#trackers.delete(tracker) });
    this.#trackers.add(tracker);
    return tracker;
  }

  /** Resolves on the next pixel change after `after` (immediately if one already happened), or on timeout. */
  waitForUpdate(options: WaitForUpdateOptions): Promise<RfbWaitResult> {
    return this.#waiter.waitForUpdate(options);
  }

  /** Resolves once nothing changed for `quietMs` (counted from `since`), or on timeout. */
  waitForQuiet(options: WaitForQuietOptions): Promise<RfbWaitResult> {
    return this.#waiter.waitForQuiet(options);
  }

  sendKey(keysym: number, down: boolean): void {
    this.typeKeys([{ keysym, down }]);
  }

  /** Sends key events in one write, in order. */
  typeKeys(events: readonly KeyEvent[]): void {
    if (events.length === 0) return;
    const message = Buffer.allocUnsafe(events.length * 8);
    events.forEach((event, index) => {
      if (!Number.isInteger(event.keysym) || event.keysym < 0 || event.keysym > 0xffffffff) {
        throw new NexoraError('invalid-argument', `Keysym ${event.keysym} is not a 32-bit unsigned integer.`);
      }
      writeKeyEvent(message, index * 8, event.keysym, event.down);
    });
    this.#write(message);
  }

  /** Moves the pointer to (x, y) with buttons held per `buttonMask` (bit 0 left, 1 middle, 2 right, 3/4 wheel). */
  pointer(x: number, y: number, buttonMask = 0): void {
    for (const [name, value, max] of [['x', x, 65535], ['y', y, 65535], ['buttonMask', buttonMask, 255]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > max) throw new NexoraError('invalid-argument', `Pointer ${name} ${value} must be an integer from 0 to ${max}.`);
    }
    this.#write(encodePointerEvent(x, y, buttonMask));
  }

  /** Sets the server's clipboard. RFB cut text is Latin-1. */
  sendCutText(text: string): void {
    if ([...text].some((character) => character.codePointAt(0)! > 0xff)) throw new NexoraError('invalid-argument', 'RFB cut text must be Latin-1; characters beyond U+00FF cannot be sent this way.');
    this.#write(encodeClientCutText(text));
  }

  /** Closes the connection for good; pending waits reject with rfb-closed. */
  close(): void {
    this.#finish(undefined);
  }

  /**
   * Emits without letting a listener's exception into the protocol loop, where it would be
   * mistaken for bad server data; it is rethrown on its own, as Node reports listener bugs.
   */
  #emit<Name extends keyof RfbClientEvents>(name: Name, ...args: RfbClientEvents[Name]): void {
    try {
      (this.emit as (name: Name, ...args: RfbClientEvents[Name]) => boolean)(name, ...args);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #write(data: Buffer): void {
    const connection = this.#connection;
    if (this.#state !== 'connected' || !connection?.isOpen) {
      throw this.#closeError ?? new NexoraError('rfb-closed', `The VNC connection is ${this.#state === 'reconnecting' ? 'being restored; retry shortly' : 'closed'}.`);
    }
    connection.write(data);
  }

  async #open(signal: AbortSignal | undefined): Promise<void> {
    const connection = await RfbConnection.open({
      host: this.#options.host,
      port: this.#options.port,
      password: this.#options.password,
      encodings: this.#encodings,
      limits: this.#limits,
      mirror: this.#mirror,
      stats: this.#stats,
      signal,
      timeoutMs: this.#options.timeoutMs ?? 10_000,
      handlers: {
        onUpdate: (rects) => this.#onUpdate(rects),
        onResize: (width, height) => this.#emit('rfb-desktop-resize', { width, height }),
        onBell: () => this.#emit('rfb-bell-ring'),
        onCutText: (text) => this.#emit('rfb-cut-text-receive', { text }),
      },
    });
    this.name = connection.init?.name ?? '';
    this.#connection = connection;
    void connection.ended.then((error) => this.#onConnectionEnded(connection, error));
  }

  #onUpdate(rects: RfbRect[]): void {
    if (rects.length === 0) return;
    for (const tracker of this.#trackers) for (const rect of rects) tracker.add(rect);
    this.#waiter.notify();
    this.#emit('rfb-framebuffer-update', { rects, at: this.#waiter.lastUpdateAt });
  }

  #onConnectionEnded(connection: RfbConnection, error: NexoraError): void {
    if (connection !== this.#connection || this.#state !== 'connected') return;
    const reconnect = this.#options.reconnect;
    // Malformed data or a refused password will not fix themselves; only drops are retried.
    if (reconnect === false || error.code !== 'rfb-closed') {
      this.#finish(error);
      return;
    }
    this.#state = 'reconnecting';
    this.#emit('rfb-connection-lost', { error });
    void this.#reconnect(reconnect ?? {}, error);
  }

  async #reconnect(options: RfbReconnectOptions, lastError: NexoraError): Promise<void> {
    const attempts = options.attempts ?? 5;
    let delay = options.initialDelayMs ?? 100;
    const signal = this.#reconnectAbort.signal;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      if (this.#state !== 'reconnecting') return;
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2000);
      try {
        await this.#open(signal);
        if (this.#state !== 'reconnecting') {
          this.#connection?.end(new NexoraError('rfb-closed', 'The VNC client was closed.'));
          return;
        }
        this.#state = 'connected';
        // Everything on screen may have changed while we were away.
        this.#onUpdate([{ x: 0, y: 0, width: this.width, height: this.height }]);
        this.#emit('rfb-connection-restored', { attempt });
        return;
      } catch (error) {
        lastError = NexoraError.is(error) ? error : new NexoraError('rfb-closed', describeError(error), { cause: error });
        if (lastError.code === 'rfb-auth-failed' || lastError.code === 'rfb-protocol') break;
      }
    }
    if (this.#state === 'reconnecting') {
      this.#finish(new NexoraError('rfb-closed', `The VNC connection was lost and could not be restored after ${attempts} attempts: ${lastError.message}`, { cause: lastError }));
    }
  }

  #finish(error: NexoraError | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeError = error ?? new NexoraError('rfb-closed', 'The VNC client was closed.');
    this.#reconnectAbort.abort();
    this.#connection?.end(this.#closeError);
    this.#waiter.close(this.#closeError);
    this.#emit('rfb-connection-closed', { error });
  }
}
