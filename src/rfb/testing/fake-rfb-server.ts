import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Deflate, Z_SYNC_FLUSH } from 'pako';
import { ByteReader } from '../byte-reader.js';
import { vncAuthResponse } from '../des.js';

/** A client-to-server message as the fake server parsed it. */
export type ClientMessage =
  | { type: 'set-pixel-format'; format: Buffer }
  | { type: 'set-encodings'; encodings: number[] }
  | { type: 'update-request'; incremental: boolean; x: number; y: number; width: number; height: number }
  | { type: 'key'; keysym: number; down: boolean }
  | { type: 'pointer'; x: number; y: number; buttonMask: number }
  | { type: 'cut-text'; text: string };

export interface FakeRfbServerOptions {
  width: number;
  height: number;
  name?: string;
  /** Minor protocol version to greet with: 3, 7 or 8 (default). */
  minorVersion?: 3 | 7 | 8;
  /** Require VNC Authentication with this password; None when absent. */
  password?: string;
  /** Write each byte separately, yielding between them, to exercise incremental parsing. */
  byteByByte?: boolean;
}

/**
 * An in-process RFB 3.8 server on 127.0.0.1 for tests: it performs the real handshake,
 * parses what the client sends and lets the test push any server messages.
 */
export class FakeRfbServer {
  readonly peers: FakeRfbPeer[] = [];
  readonly #server: Server;
  readonly #options: FakeRfbServerOptions;
  #waiting: Array<() => void> = [];
  port = 0;

  private constructor(options: FakeRfbServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => {
      socket.setNoDelay(true);
      const peer = new FakeRfbPeer(socket, this.#options);
      peer.handshake().then(
        () => {
          this.peers.push(peer);
          const waiting = this.#waiting;
          this.#waiting = [];
          for (const check of waiting) check();
        },
        () => socket.destroy(),
      );
    });
  }

  static async start(options: FakeRfbServerOptions): Promise<FakeRfbServer> {
    const server = new FakeRfbServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    const address = server.#server.address();
    server.port = typeof address === 'object' && address ? address.port : 0;
    return server;
  }

  /** The `index`-th peer to complete its handshake (default: the next one). */
  peer(index = this.peers.length): Promise<FakeRfbPeer> {
    return new Promise((resolve) => {
      const check = (): void => {
        const peer = this.peers[index];
        if (peer) resolve(peer);
        else this.#waiting.push(check);
      };
      check();
    });
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export class FakeRfbPeer {
  readonly messages: ClientMessage[] = [];
  readonly zlibDeflater = new Deflate({ level: 6 });
  readonly zrleDeflater = new Deflate({ level: 6 });
  readonly #reader: ByteReader;
  readonly #options: FakeRfbServerOptions;
  #listeners = new Set<() => void>();
  #sendQueue: Promise<void> = Promise.resolve();
  authFailed = false;

  constructor(
    readonly socket: Socket,
    options: FakeRfbServerOptions,
  ) {
    this.#options = options;
    this.#reader = new ByteReader({ highWaterMark: 1 << 30, onPressure: () => undefined });
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('close', () => this.#reader.fail(new Error('closed')));
    socket.on('error', () => undefined);
  }

  async handshake(): Promise<void> {
    const reader = this.#reader;
    const minor = this.#options.minorVersion ?? 8;
    this.send(Buffer.from(`RFB 003.00${minor}\n`));
    await reader.read(12);
    const type = this.#options.password === undefined ? 1 : 2;
    if (minor === 3) {
      const word = Buffer.alloc(4);
      word.writeUInt32BE(type);
      this.send(word);
    } else {
      this.send(Buffer.from([1, type]));
      await reader.read(1);
    }
    if (type === 2) {
      const challenge = randomBytes(16);
      this.send(challenge);
      const response = await reader.read(16);
      this.authFailed = !response.equals(vncAuthResponse(challenge, this.#options.password ?? ''));
    }
    if (type === 2 || minor === 8) {
      if (this.authFailed) {
        const reason = Buffer.from('Authentication failed');
        const message = Buffer.alloc(8);
        message.writeUInt32BE(1, 0);
        message.writeUInt32BE(reason.length, 4);
        this.send(minor === 8 ? Buffer.concat([message, reason]) : message.subarray(0, 4));
        await this.#sendQueue;
        this.socket.end();
        throw new Error('auth failed');
      }
      this.send(Buffer.alloc(4));
    }
    await reader.read(1); // ClientInit
    const name = Buffer.from(this.#options.name ?? 'fake desktop');
    const init = Buffer.alloc(24);
    init.writeUInt16BE(this.#options.width, 0);
    init.writeUInt16BE(this.#options.height, 2);
    init.writeUInt32BE(name.length, 20);
    this.send(Buffer.concat([init, name]));
    void this.#readMessages().catch(() => undefined);
  }

  /** Queues raw bytes to the client (byte by byte if so configured). */
  send(data: Buffer): void {
    if (!this.#options.byteByByte) {
      this.socket.write(data);
      return;
    }
    this.#sendQueue = this.#sendQueue.then(async () => {
      for (const byte of data) {
        if (this.socket.destroyed) return;
        this.socket.write(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  }

  /** Sends one FramebufferUpdate made of already-encoded rectangles. */
  sendUpdate(rects: readonly Buffer[]): void {
    const header = Buffer.alloc(4);
    header.writeUInt16BE(rects.length, 2);
    this.send(Buffer.concat([header, ...rects]));
  }

  /** Compresses `data` on one of this connection's persistent streams, flushed like a server does per rectangle. */
  deflate(stream: 'zlib' | 'zrle', data: Uint8Array): Buffer {
    const deflater = stream === 'zlib' ? this.zlibDeflater : this.zrleDeflater;
    const chunks: Uint8Array[] = [];
    deflater.onData = (chunk) => chunks.push(chunk);
    deflater.push(data, Z_SYNC_FLUSH);
    return Buffer.concat(chunks);
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitForMessage(predicate: (message: ClientMessage) => boolean, timeoutMs = 5000): Promise<ClientMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.find(predicate);
        if (!found) return false;
        this.#listeners.delete(listener);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const listener = (): void => void check();
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`no matching client message within ${timeoutMs} ms; got ${this.messages.map((message) => message.type).join(', ')}`));
      }, timeoutMs);
      if (!check()) this.#listeners.add(listener);
    });
  }

  async #readMessages(): Promise<void> {
    const reader = this.#reader;
    for (;;) {
      const type = (await reader.read(1))[0];
      let message: ClientMessage;
      if (type === 0) message = { type: 'set-pixel-format', format: Buffer.from((await reader.read(19)).subarray(3)) };
      else if (type === 2) {
        const count = (await reader.read(3)).readUInt16BE(1);
        const body = await reader.read(count * 4);
        message = { type: 'set-encodings', encodings: Array.from({ length: count }, (_, index) => body.readInt32BE(index * 4)) };
      } else if (type === 3) {
        const body = await reader.read(9);
        message = { type: 'update-request', incremental: body[0] === 1, x: body.readUInt16BE(1), y: body.readUInt16BE(3), width: body.readUInt16BE(5), height: body.readUInt16BE(7) };
      } else if (type === 4) {
        const body = await reader.read(7);
        message = { type: 'key', down: body[0] === 1, keysym: body.readUInt32BE(3) };
      } else if (type === 5) {
        const body = await reader.read(5);
        message = { type: 'pointer', buttonMask: body[0]!, x: body.readUInt16BE(1), y: body.readUInt16BE(3) };
      } else if (type === 6) {
        const length = (await reader.read(7)).readUInt32BE(3);
        message = { type: 'cut-text', text: (await reader.read(length)).toString('latin1') };
      } else {
        throw new Error(`unknown client message ${type}`);
      }
      this.messages.push(message);
      for (const listener of [...this.#listeners]) listener();
    }
  }
}
