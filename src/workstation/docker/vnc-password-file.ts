import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { vncPasswordFile } from '../../rfb/index.js';
import { startDeadline } from './start-deadline.js';

/** Where the start script tells the VNC server to read the password (a tmpfs, mode 0600). */
export const VNC_PASSWORD_FILE = '/run/nexora/vncpasswd';

// Written beside and renamed, so the server never reads half a file; umask 077 keeps it to
// the session's uid. $0 is the path, so nothing secret is on the command line either.
const WRITE_SCRIPT = 'umask 077 && cat >"$0.new" && mv -f "$0.new" "$0"';

/**
 * Gives the workstation's VNC server its password through an exec's stdin: never the
 * container's environment (which `docker inspect` shows and every exec inherits), never a
 * command line. `docker cp` cannot do it: the Engine's archive upload does not write into
 * tmpfs mounts. A restarted container has a fresh tmpfs, so this runs after every start.
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
    const exec = await docker.getContainer(containerId).exec({
      Cmd: ['sh', '-c', WRITE_SCRIPT, VNC_PASSWORD_FILE],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      WorkingDir: '/',
      abortSignal: starting.signal,
    });
    stream = await exec.start({ hijack: true, stdin: true, abortSignal: starting.signal });
    starting.done();
    const ended = new Promise<void>((resolve, reject) => {
      stream!.on('end', resolve);
      stream!.on('close', resolve);
      stream!.on('error', reject);
      stream!.resume();
    });
    stream.end(content);
    await ended;
    const info = await exec.inspect({ abortSignal: AbortSignal.timeout(Math.min(options.timeoutMs, 30_000)) });
    if (info.ExitCode !== 0) throw new Error(`the write exited with ${info.ExitCode}`);
  } catch (error) {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'Delivering the VNC password was aborted.');
    throw new NexoraError(
      'workstation-failed',
      `Could not give workstation ${short} its VNC password (${describeError(error)}). Check that it runs: \`docker logs ${short}\`.`,
      { cause: error },
    );
  } finally {
    starting.done();
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
