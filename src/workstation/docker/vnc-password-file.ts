import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { vncPasswordFile } from '../../rfb/index.js';
import { WORKSTATION_HELPERS } from '../helper-users.js';
import { startDeadline } from './start-deadline.js';

/** Where the display's start script keeps the VNC password: mode 0600, owned by nexora-display, in its own 0711 directory. */
export const VNC_PASSWORD_FILE = '/run/nexora/display/vncpasswd';

/**
 * The environment of every exec of one of Nexora's helper uids: no nss_wrapper (the image's
 * LD_PRELOAD), whose passwd and group files the workstation's user writes, and no HOME of
 * that user's.
 */
export const HELPER_ENV: Readonly<Record<string, string>> = { LD_PRELOAD: '', HOME: '/nonexistent' };

/** Bytes of the start script's output kept for an error message. */
const OUTPUT_KEPT = 4096;

/**
 * Starts the workstation's display (X and VNC server) as nexora-display and gives it its
 * password through the exec's stdin: never the container's environment (which `docker
 * inspect` shows and every exec inherits), never a command line, and never readable by the
 * workstation's user. `docker cp` cannot do it: the Engine's archive upload does not write into
 * tmpfs mounts. A restarted container has a fresh tmpfs and no display, so this runs after
 * every start; it resolves once the X server accepts clients. Run again on a running display,
 * it only replaces the password.
 */
export async function writeVncPassword(
  docker: Docker,
  containerId: string,
  options: { password: string; timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const content = vncPasswordFile(options.password);
  const short = containerId.slice(0, 12);
  let stream: NodeJS.ReadWriteStream | undefined;
  const timer = setTimeout(() => (stream as { destroy?: () => void } | undefined)?.destroy?.(), options.timeoutMs);
  const onAbort = (): void => (stream as { destroy?: () => void } | undefined)?.destroy?.();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The exec's create and start requests get the deadline too (the timer above only reaches
  // the stream once it exists), through a signal that cannot fire once the stream is open.
  const starting = startDeadline(options.timeoutMs, options.signal);
  try {
    const display = WORKSTATION_HELPERS.display;
    const exec = await docker.getContainer(containerId).exec({
      Cmd: ['/opt/nexora/start-display.sh'],
      User: `${display.uid}:${display.gid}`,
      Env: Object.entries(HELPER_ENV).map(([name, value]) => `${name}=${value}`),
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      WorkingDir: '/',
      abortSignal: starting.signal,
    });
    stream = await exec.start({ hijack: true, stdin: true, abortSignal: starting.signal });
    starting.done();
    let output = '';
    const sink = new PassThrough();
    sink.setEncoding('utf8');
    sink.on('data', (chunk: string) => {
      output = (output + chunk).slice(-OUTPUT_KEPT);
    });
    docker.modem.demuxStream(stream, sink, sink);
    const ended = new Promise<void>((resolve, reject) => {
      stream!.on('end', resolve);
      stream!.on('close', resolve);
      stream!.on('error', reject);
    });
    stream.end(content);
    await ended;
    const info = await exec.inspect({ abortSignal: AbortSignal.timeout(Math.min(options.timeoutMs, 30_000)) });
    if (info.ExitCode !== 0) throw new Error(`the display's start exited with ${info.ExitCode}: ${output.trim().split('\n').slice(-5).join(' | ')}`);
  } catch (error) {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'Starting the display was aborted.');
    throw new NexoraError(
      'workstation-failed',
      `Could not start the display of workstation ${short} (${describeError(error)}). Check that it runs: \`docker logs ${short}\`.`,
      { cause: error },
    );
  } finally {
    starting.done();
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
