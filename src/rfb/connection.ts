import { connect, type Socket } from 'node:net';
import { NexoraError, describeError } from '../errors.js';
import { BoundedInflater } from './bounded-inflater.js';
import { ByteReader } from './byte-reader.js';
import { encodeFramebufferUpdateRequest, encodeSetEncodings, encodeSetPixelFormat } from './client-messages.js';
import { decodeCopyRect } from './decoders/copy-rect.js';
import { protocolError, type DecodeContext, type RectDecoder } from './decoders/decode-context.js';
import { decodeHextile } from './decoders/hextile.js';
import { decodeRaw } from './decoders/raw.js';
import { decodeZlib } from './decoders/zlib.js';
import { decodeZrle } from './decoders/zrle.js';
import type { RfbRect } from './dirty-region.js';
import { rfbEncodings } from './encodings.js';
import type { FramebufferMirror } from './framebuffer-mirror.js';
import { checkFramebufferSize, performHandshake, type ServerInit } from './handshake.js';
import type { RfbLimits } from './limits.js';

const decoders = new Map<number, RectDecoder>([
  [rfbEncodings.raw, decodeRaw],
  [rfbEncodings.copyRect, decodeCopyRect],
  [rfbEncodings.hextile, decodeHextile],
  [rfbEncodings.zlib, decodeZlib],
  [rfbEncodings.zrle, decodeZrle],
]);

/** Traffic counters, for benchmarks and diagnostics. */
export interface RfbStats {
  /** FramebufferUpdates applied. */
  updates: number;
  /** Rectangles received, by encoding number (16 ZRLE, 6 Zlib, 5 Hextile, 1 CopyRect, 0 Raw). */
  rectsByEncoding: Record<number, number>;
  bytesReceived: number;
  /** Total ms from parsing each update's header to its last pixel (includes waits for data mid-update). */
  applyMs: number;
}

/** What a connection reports to its owner while it runs. */
export interface ConnectionHandlers {
  /** A FramebufferUpdate was applied; `rects` are those whose pixels changed. */
  onUpdate(rects: RfbRect[]): void;
  onResize(width: number, height: number): void;
  onBell(): void;
  onCutText(text: string): void;
}

export interface OpenConnectionOptions {
  host: string;
  port: number;
  password?: string;
  encodings: readonly number[];
  limits: RfbLimits;
  mirror: FramebufferMirror;
  handlers: ConnectionHandlers;
  /** Counters the connection adds to (shared across reconnects). */
  stats: RfbStats;
  signal?: AbortSignal;
  timeoutMs: number;
}

/**
 * One TCP connection to an RFB server, from connect through the handshake to the message
 * loop that keeps `mirror` current. It ends exactly once; `ended` tells why.
 */
export class RfbConnection {
  readonly socket: Socket;
  readonly ended: Promise<NexoraError>;
  init: ServerInit | undefined;
  readonly #reader: ByteReader;
  // zlib streams live as long as the connection: the server's deflate state does too.
  readonly #zlibStream = new BoundedInflater('Zlib');
  readonly #zrleStream = new BoundedInflater('ZRLE');
  readonly #options: OpenConnectionOptions;
  #endError: NexoraError | undefined;
  #resolveEnded!: (error: NexoraError) => void;

  private constructor(options: OpenConnectionOptions) {
    this.#options = options;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.socket = connect({ host: options.host, port: options.port });
    this.socket.setNoDelay(true);
    this.#reader = new ByteReader({
      highWaterMark: options.limits.maxBufferedBytes,
      onPressure: (paused) => (paused ? this.socket.pause() : this.socket.resume()),
    });
    this.socket.on('data', (chunk: Buffer) => {
      options.stats.bytesReceived += chunk.length;
      this.#reader.push(chunk);
    });
    this.socket.on('error', (error) => {
      this.end(new NexoraError('rfb-closed', `The VNC connection to ${options.host}:${options.port} failed: ${describeError(error)}. Check that the VNC server is running and listening there.`, { cause: error }));
    });
    this.socket.on('close', () => {
      this.end(new NexoraError('rfb-closed', `The VNC server at ${options.host}:${options.port} closed the connection (it may have stopped or restarted).`));
    });
  }

  /** Connects and completes the handshake within `timeoutMs`, then starts the message loop. */
  static async open(options: OpenConnectionOptions): Promise<RfbConnection> {
    const connection = new RfbConnection(options);
    const { signal, timeoutMs } = options;
    const timer = setTimeout(() => {
      connection.end(new NexoraError('timeout', `The VNC server at ${options.host}:${options.port} did not complete the handshake within ${timeoutMs} ms. Check that it is running and the port is right.`));
    }, timeoutMs);
    const onAbort = (): void => connection.end(new NexoraError('aborted', 'Connecting to the VNC server was aborted.'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const init = await performHandshake({
        reader: connection.#reader,
        write: (data) => connection.write(data),
        password: options.password,
        limits: options.limits,
      });
      connection.init = init;
      if (init.width !== options.mirror.width || init.height !== options.mirror.height) {
        options.mirror.resize(init.width, init.height);
        options.handlers.onResize(init.width, init.height);
      }
      connection.write(encodeSetPixelFormat());
      connection.write(encodeSetEncodings(options.encodings));
      connection.#requestUpdate(false);
    } catch (error) {
      const reason = connection.#endError ?? toNexoraError(error);
      connection.end(reason);
      throw reason;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    connection.#run().catch((error: unknown) => connection.end(toNexoraError(error)));
    return connection;
  }

  get isOpen(): boolean {
    return this.#endError === undefined;
  }

  write(data: Buffer): void {
    if (this.#endError) throw this.#endError;
    this.socket.write(data);
  }

  /** Ends the connection (idempotent); the first reason wins. */
  end(reason: NexoraError): void {
    if (this.#endError) return;
    this.#endError = reason;
    this.#reader.fail(reason);
    this.socket.destroy();
    this.#resolveEnded(reason);
  }

  #requestUpdate(incremental: boolean): void {
    const { mirror } = this.#options;
    if (!this.isOpen) return;
    this.write(encodeFramebufferUpdateRequest({ incremental, x: 0, y: 0, width: mirror.width, height: mirror.height }));
  }

  async #run(): Promise<void> {
    const reader = this.#reader;
    const { limits, handlers } = this.#options;
    while (this.isOpen) {
      if (reader.available < 1) await reader.need(1);
      const type = reader.u8();
      switch (type) {
        case 0:
          await this.#readFramebufferUpdate();
          break;
        case 1: {
          // SetColourMapEntries: never expected with a true-colour format; skip it.
          const header = await reader.read(5);
          await reader.skip(header.readUInt16BE(3) * 6);
          break;
        }
        case 2:
          handlers.onBell();
          break;
        case 3: {
          const length = (await reader.read(7)).readUInt32BE(3);
          if (length > limits.maxCutTextBytes) throw protocolError(`${length} bytes of cut text exceed ${limits.maxCutTextBytes}`);
          handlers.onCutText((await reader.read(length)).toString('latin1'));
          break;
        }
        default:
          throw protocolError(`unknown server message type ${type}`);
      }
    }
  }

  async #readFramebufferUpdate(): Promise<void> {
    const reader = this.#reader;
    const { mirror, limits, handlers } = this.#options;
    const startedAt = performance.now();
    const context: DecodeContext = { reader, mirror, zlibStream: this.#zlibStream, zrleStream: this.#zrleStream };
    const rectCount = (await reader.read(3)).readUInt16BE(1);
    const changed: RfbRect[] = [];
    let pixelsTouched = 0;
    let resized = false;
    for (let index = 0; index < rectCount; index++) {
      const header = await reader.read(12);
      const rect: RfbRect = { x: header.readUInt16BE(0), y: header.readUInt16BE(2), width: header.readUInt16BE(4), height: header.readUInt16BE(6) };
      const encoding = header.readInt32BE(8);
      if (encoding === rfbEncodings.lastRect) break;
      if (encoding === rfbEncodings.desktopSize) {
        checkFramebufferSize(rect.width, rect.height, limits);
        mirror.resize(rect.width, rect.height);
        handlers.onResize(rect.width, rect.height);
        changed.length = 0;
        changed.push({ x: 0, y: 0, width: rect.width, height: rect.height });
        resized = true;
        continue;
      }
      const decoder = decoders.get(encoding);
      if (!decoder || !this.#options.encodings.includes(encoding)) throw protocolError(`rectangle encoding ${encoding} was not requested`);
      if (rect.x + rect.width > mirror.width || rect.y + rect.height > mirror.height) {
        throw protocolError(`rectangle ${rect.width}x${rect.height}+${rect.x}+${rect.y} lies outside the ${mirror.width}x${mirror.height} framebuffer`);
      }
      pixelsTouched += rect.width * rect.height;
      // Bounded by the screen too: CopyRect and fills cost CPU per pixel for a few bytes each,
      // and a legitimate update covers the screen a few times at most.
      const budget = Math.min(limits.maxUpdatePixels, 8 * mirror.width * mirror.height + 65_536);
      if (pixelsTouched > budget) throw protocolError(`one update touches more than ${budget} pixels`);
      this.#options.stats.rectsByEncoding[encoding] = (this.#options.stats.rectsByEncoding[encoding] ?? 0) + 1;
      if (await decoder(context, rect)) changed.push(rect);
    }
    // Ask for the next update straight away: x11vnc then pushes changes as they happen, and a
    // screenshot is just a read of the mirror.
    if (!this.isOpen) return;
    this.#options.stats.updates++;
    this.#options.stats.applyMs += performance.now() - startedAt;
    this.#requestUpdate(!resized);
    handlers.onUpdate(changed);
  }
}

function toNexoraError(error: unknown): NexoraError {
  if (NexoraError.is(error)) return error;
  // A bug of ours or a pako failure must still end the connection cleanly, never crash.
  return new NexoraError('rfb-protocol', `The VNC connection failed while reading server data: ${describeError(error)}.`, { cause: error });
}
