import { connect } from 'node:net';
import { NexoraError, describeError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { performHandshake, type ServerInit } from './handshake.js';
import { defaultRfbLimits } from './limits.js';

/**
 * Connects, completes the handshake (authenticating with `password`) and hangs up. A
 * readiness probe must authenticate: TigerVNC blacklists an address after five connections
 * that close before authenticating, and through Docker's port proxy every connection comes
 * from the same address — a greeting-only probe would lock out the real client.
 */
export function probeRfbServer(options: { host: string; port: number; password?: string; timeoutMs: number; signal?: AbortSignal }): Promise<ServerInit> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port });
    const reader = new ByteReader({ highWaterMark: 1 << 20, onPressure: () => undefined });
    let done = false;
    const finish = (error?: Error, init?: ServerInit): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reader.fail(error ?? new Error('probe finished'));
      socket.destroy();
      if (error) reject(error);
      else resolve(init!);
    };
    const onAbort = (): void => finish(new NexoraError('aborted', 'The VNC probe was aborted.'));
    const timer = setTimeout(() => finish(new NexoraError('timeout', `no RFB handshake within ${options.timeoutMs} ms`)), options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (error) => finish(new NexoraError('rfb-closed', describeError(error), { cause: error })));
    socket.on('close', () => finish(new NexoraError('rfb-closed', 'closed before the handshake completed')));
    performHandshake({
      reader,
      write: (data) => socket.write(data),
      ...(options.password !== undefined ? { password: options.password } : {}),
      limits: defaultRfbLimits,
    }).then(
      (init) => finish(undefined, init),
      (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
