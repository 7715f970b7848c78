import { connect, type Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { NexoraError } from '../errors.js';
import { vncAuthResponse } from '../rfb/index.js';
import { ByteQueue } from './byte-queue.js';
import { ClientMessageFilter, type ClientInput } from './client-message-filter.js';

export interface RfbProxyOptions {
  browser: WebSocket;
  upstream: { host: string; port: number; password: string };
  /** Consulted per input message: true while the person holds the display. */
  allowInput: () => boolean;
  /** Every input message the person sent while allowed (for the transcript). */
  onInput?: (input: ClientInput) => void;
  timeoutMs?: number;
  onClose?: (error?: Error) => void;
}

const VERSION = Buffer.from('RFB 003.008\n', 'latin1');
const SECURITY_NONE = 1;
const SECURITY_VNC = 2;

/**
 * Relays one browser (noVNC over a WebSocket) to a workstation's VNC server. The proxy does
 * the VNC password authentication itself and offers the browser security type None, so the
 * password never leaves this process; input messages pass only while `allowInput()` says so.
 */
export async function proxyRfb(options: RfbProxyOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const fromBrowser = new ByteQueue();
  const fromServer = new ByteQueue();
  let relaying = false;
  let closed = false;
  const filter = new ClientMessageFilter(options.allowInput);
  const socket: Socket = connect({ host: options.upstream.host, port: options.upstream.port });
  socket.setNoDelay(true);

  const close = (error?: Error): void => {
    if (closed) return;
    closed = true;
    socket.destroy();
    options.browser.close(error ? 1011 : 1000, error ? error.message.slice(0, 100) : undefined);
    options.onClose?.(error);
  };
  const forwardFromBrowser = (chunk: Buffer): void => {
    try {
      for (const verdict of filter.push(chunk)) {
        if (verdict.kind === 'forward') socket.write(verdict.bytes);
        else if (verdict.kind === 'pass-input') {
          socket.write(verdict.bytes);
          options.onInput?.(verdict.input);
        }
      }
    } catch (error) {
      close(error instanceof Error ? error : new Error(String(error)));
    }
  };

  options.browser.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (relaying) forwardFromBrowser(chunk);
    else fromBrowser.push(chunk);
  });
  options.browser.on('close', () => close());
  options.browser.on('error', (error) => close(error));
  socket.on('data', (chunk: Buffer) => {
    if (relaying) options.browser.send(chunk);
    else fromServer.push(chunk);
  });
  socket.on('error', (error) => {
    fromServer.fail(error);
    close(error);
  });
  socket.on('close', () => {
    fromServer.fail(new NexoraError('rfb-closed', 'The workstation closed the VNC connection.'));
    close();
  });

  try {
    await authenticateUpstream(fromServer, socket, options.upstream.password, timeoutMs);
    // The browser's half: version, security None, result OK.
    options.browser.send(VERSION);
    const clientVersion = (await fromBrowser.read(12, { timeoutMs, what: "the browser's RFB version" })).toString('latin1');
    if (!/^RFB 003\.00[378]\n$/.test(clientVersion)) throw new NexoraError('rfb-protocol', `The browser spoke ${JSON.stringify(clientVersion)}, not RFB 3.x.`);
    options.browser.send(Buffer.from([1, SECURITY_NONE]));
    const chosen = (await fromBrowser.read(1, { timeoutMs, what: "the browser's security choice" }))[0];
    if (chosen !== SECURITY_NONE) throw new NexoraError('rfb-protocol', `The browser chose security type ${chosen}, not None.`);
    options.browser.send(Buffer.alloc(4));
    await fromBrowser.read(1, { timeoutMs, what: "the browser's ClientInit" });
    // Always shared: the agent's own connection must stay up.
    socket.write(Buffer.from([1]));
    relaying = true;
    const serverRest = fromServer.drain();
    if (serverRest.length > 0) options.browser.send(serverRest);
    const browserRest = fromBrowser.drain();
    if (browserRest.length > 0) forwardFromBrowser(browserRest);
  } catch (error) {
    close(error instanceof Error ? error : new Error(String(error)));
  }
}

async function authenticateUpstream(queue: ByteQueue, socket: Socket, password: string, timeoutMs: number): Promise<void> {
  const version = (await queue.read(12, { timeoutMs, what: 'the VNC server greeting' })).toString('latin1');
  if (!/^RFB 003\.(00[89]|889)\n$/.test(version)) throw new NexoraError('rfb-protocol', `The VNC server speaks ${JSON.stringify(version)}; RFB 3.8 is required.`);
  socket.write(VERSION);
  const count = (await queue.read(1, { timeoutMs, what: 'security types' }))[0] ?? 0;
  if (count === 0) throw new NexoraError('rfb-protocol', 'The VNC server refused the connection.');
  const types = await queue.read(count, { timeoutMs, what: 'security types' });
  if (!types.includes(SECURITY_VNC)) throw new NexoraError('rfb-auth-failed', 'The VNC server does not offer password authentication.');
  socket.write(Buffer.from([SECURITY_VNC]));
  const challenge = await queue.read(16, { timeoutMs, what: 'the VNC auth challenge' });
  socket.write(vncAuthResponse(challenge, password));
  const result = (await queue.read(4, { timeoutMs, what: 'the VNC auth result' })).readUInt32BE(0);
  if (result !== 0) throw new NexoraError('rfb-auth-failed', 'The workstation refused its VNC password.');
}
