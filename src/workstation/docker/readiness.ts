import { connect } from 'node:net';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { execInContainer } from './exec.js';

/** The start script's readiness protocol: `READY` or `FAILED <reason>` in this file. */
export const STATUS_FILE = '/run/nexora/status';

// Polls inside the container (no round trip per poll): prints the status line once final.
const WAIT_SCRIPT = `while :; do if [ -s ${STATUS_FILE} ]; then read -r s < ${STATUS_FILE}; case "$s" in READY*|FAILED*) echo "$s"; exit 0;; esac; fi; sleep 0.01; done`;

/**
 * Waits until the workstation's start script reports READY (X, the VNC server and tmux
 * answer inside). Fails with the script's reason on FAILED, or when the container dies.
 */
export async function waitForStatusReady(
  docker: Docker,
  containerId: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  let result;
  try {
    result = await execInContainer(docker, containerId, {
      cmd: ['sh', '-c', WAIT_SCRIPT],
      cwd: '/',
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw await notReady(docker, containerId, describeError(error), error);
  }
  const status = result.stdout.trim();
  if (status.startsWith('READY')) return;
  if (status.startsWith('FAILED')) {
    throw new NexoraError(
      'workstation-failed',
      `The workstation's start script failed: ${status.slice(6).trim() || 'no reason given'}. Its log: \`docker logs ${containerId.slice(0, 12)}\`.`,
    );
  }
  if (result.aborted) throw new NexoraError('aborted', 'Waiting for the workstation was aborted.');
  if (result.timedOut) {
    throw new NexoraError(
      'workstation-not-ready',
      `The workstation did not report READY within ${options.timeoutMs} ms. Its log: \`docker logs ${containerId.slice(0, 12)}\`; a loaded machine may need a longer start timeout.`,
    );
  }
  throw await notReady(docker, containerId, `the status wait ended with code ${result.exitCode}`);
}

async function notReady(docker: Docker, containerId: string, detail: string, cause?: unknown): Promise<NexoraError> {
  let state = '';
  try {
    const info = await docker.getContainer(containerId).inspect();
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
 * Waits until an RFB server greets on host:port (`RFB 003.00x`), through the published port:
 * proves the path a viewer or the RFB client will take. Docker's proxy accepts before the
 * server listens and then closes, so a closed connection is retried.
 */
export async function waitForRfbGreeting(options: {
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'Waiting for the VNC server was aborted.');
    try {
      return await readGreeting(options.host, options.port, Math.max(deadline - Date.now(), 1));
    } catch (error) {
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
