import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { probeRfbServer } from '../../rfb/index.js';
import { execInContainer } from './exec.js';

/** The start script's readiness protocol: `READY` or `FAILED <reason>` in this file. */
export const STATUS_FILE = '/run/nexora/status';


/**
 * Waits until the workstation's start script reports READY (X, the VNC server and tmux
 * answer inside). The script logs `nexora-start: READY …` or `… FAILED <reason>`, so the
 * container's log stream, followed from the start, says so the moment it happens: no exec,
 * no polling. If the stream ends without either (an engine hiccup), the status file is read.
 */
export async function waitForStatusReady(
  docker: Docker,
  containerId: string,
  options: { timeoutMs: number; signal?: AbortSignal; skipVerdicts?: number },
): Promise<void> {
  const outcome = await watchLog(docker, containerId, options).catch((error: unknown) => ({ kind: 'error' as const, error }));
  if (outcome.kind === 'ready') return;
  if (outcome.kind === 'failed') {
    throw new NexoraError(
      'workstation-failed',
      `The workstation's start script failed: ${outcome.reason || 'no reason given'}. Its log: \`docker logs ${containerId.slice(0, 12)}\`.`,
    );
  }
  if (options.signal?.aborted) throw new NexoraError('aborted', 'Waiting for the workstation was aborted.');
  if (outcome.kind === 'timeout') {
    throw new NexoraError(
      'workstation-not-ready',
      `The workstation did not report READY within ${options.timeoutMs} ms. Its log: \`docker logs ${containerId.slice(0, 12)}\`; a loaded machine may need a longer start timeout (NEXORA_START_TIMEOUT).`,
    );
  }
  // The log ended without a verdict: the container stopped, or the engine dropped the stream.
  const result = await execInContainer(docker, containerId, { cmd: ['cat', STATUS_FILE], cwd: '/', timeoutMs: 5000 }).catch(() => undefined);
  const status = result?.stdout.trim() ?? '';
  if (status.startsWith('READY')) return;
  throw await notReady(docker, containerId, status ? `status ${status}` : 'its log ended', outcome.kind === 'error' ? outcome.error : undefined);
}

type LogOutcome = { kind: 'ready' } | { kind: 'failed'; reason: string } | { kind: 'timeout' } | { kind: 'ended' };

const VERDICT = /^nexora-start: (READY|FAILED) ?(.*)$/gm;

/**
 * How many READY/FAILED lines the container's log holds: a restarted container keeps its
 * old log, so a wait after a restart skips that many.
 */
export async function countVerdicts(docker: Docker, containerId: string, options: { signal?: AbortSignal } = {}): Promise<number> {
  const buffer = await docker.getContainer(containerId).logs({ follow: false, stdout: true, stderr: true, abortSignal: options.signal ?? AbortSignal.timeout(30_000) });
  // Not demultiplexed: each line follows an 8-byte frame header, so no ^ anchor here.
  return [...buffer.toString('latin1').matchAll(/nexora-start: (READY|FAILED)/g)].length;
}

function watchLog(docker: Docker, containerId: string, options: { timeoutMs: number; signal?: AbortSignal; skipVerdicts?: number }): Promise<LogOutcome> {
  let skip = options.skipVerdicts ?? 0;
  return new Promise((resolve, reject) => {
    let stream: NodeJS.ReadableStream | undefined = undefined;
    let text = '';
    let settled = false;
    // Closes the log request when the wait ends, even while the engine has not answered it yet.
    const request = new AbortController();
    const finish = (outcome: LogOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      destroyStream(stream);
      request.abort();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: 'ended' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString('utf8');
        const complete = text.lastIndexOf('\n') + 1;
        for (const match of text.slice(0, complete).matchAll(VERDICT)) {
          if (skip > 0) {
            skip--;
            continue;
          }
          finish(match[1] === 'READY' ? { kind: 'ready' } : { kind: 'failed', reason: match[2] ?? '' });
          break;
        }
        // Only the unfinished last line matters for the next chunk.
        text = text.slice(complete);
        callback();
      },
    });
    docker
      .getContainer(containerId)
      .logs({ follow: true, stdout: true, stderr: true, abortSignal: request.signal })
      .then((logs) => {
        stream = logs;
        if (settled) {
          destroyStream(stream);
          return;
        }
        docker.modem.demuxStream(stream, sink, sink);
        stream.on('end', () => finish({ kind: 'ended' }));
        stream.on('close', () => finish({ kind: 'ended' }));
        stream.on('error', () => finish({ kind: 'ended' }));
      })
      .catch((error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
  });
}

async function notReady(docker: Docker, containerId: string, detail: string, cause?: unknown): Promise<NexoraError> {
  let state = '';
  try {
    const info = await docker.getContainer(containerId).inspect({ abortSignal: AbortSignal.timeout(10_000) });
    if (!info.State.Running) state = ` The container exited with code ${info.State.ExitCode}${info.State.OOMKilled ? ' (out of memory: raise the memory limit)' : ''}.`;
  } catch {
    state = ' The container is gone.';
  }
  return new NexoraError(
    'workstation-not-ready',
    `The workstation did not become ready (${detail}).${state} Its log: \`docker logs ${containerId.slice(0, 12)}\`.`,
    { cause },
  );
}

/**
 * Waits until the RFB server answers on host:port through the published port: proves the path
 * a viewer or the RFB client will take. With `password` the probe completes the handshake
 * (the workstation's Xvnc runs without TigerVNC's login blacklist, but a server that keeps
 * one counts connections closed before authenticating, and through Docker every connection
 * shares one address); without, it reads the greeting only. Docker's proxy accepts before the
 * server listens and then closes, so a closed connection is retried; a refused password is
 * not (it will not start working).
 */
export async function waitForRfbGreeting(options: {
  host: string;
  port: number;
  timeoutMs: number;
  password?: string;
  signal?: AbortSignal;
}): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'Waiting for the VNC server was aborted.');
    const timeoutMs = Math.max(deadline - Date.now(), 1);
    try {
      if (options.password === undefined) return await readGreeting(options.host, options.port, timeoutMs);
      const init = await probeRfbServer({ host: options.host, port: options.port, password: options.password, timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
      return `RFB 003.00${init.minorVersion}`;
    } catch (error) {
      if (NexoraError.is(error, 'rfb-auth-failed')) {
        throw new NexoraError('workstation-failed', `The VNC server on ${options.host}:${options.port} refused the session's password: ${describeError(error)}`, { cause: error });
      }
      lastError = describeError(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new NexoraError(
    'workstation-not-ready',
    `The VNC server on ${options.host}:${options.port} did not greet within ${options.timeoutMs} ms (${lastError}).`,
  );
}

function readGreeting(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('timed out')), timeoutMs);
    const finish = (error?: Error, greeting?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(greeting ?? '');
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 12) {
        const greeting = received.subarray(0, 12).toString('latin1');
        if (/^RFB \d{3}\.\d{3}\n$/.test(greeting)) finish(undefined, greeting.trim());
        else finish(new Error(`unexpected greeting ${JSON.stringify(greeting)}`));
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('closed before greeting')));
  });
}

function destroyStream(stream: NodeJS.ReadableStream | undefined): void {
  const destroyable = stream as { destroy?: () => void } | undefined;
  destroyable?.destroy?.();
}
