import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import type { AttachedProcess, AttachOptions } from '../workstation.js';
import { startDeadline } from './start-deadline.js';

/**
 * Starts a process through the Engine API exec with stdin attached (a hijacked
 * connection), for channels that stay open for the life of a session: the tmux control
 * client and the command server.
 */
export async function attachExec(docker: Docker, containerId: string, options: AttachOptions): Promise<AttachedProcess> {
  if (options.cmd.length === 0) throw new NexoraError('invalid-argument', 'attachExec needs a command');
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Bounds the start only, and is never aborted after it: Node would destroy the hijacked
  // connection (the process's streams) if the request's signal fired later.
  const starting = startDeadline(timeoutMs, options.signal);
  const abortSignal = starting.signal;
  try {
    const exec = await docker.getContainer(containerId).exec({
      abortSignal,
      Cmd: [...options.cmd],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      ...(options.user ? { User: options.user } : {}),
      ...(options.cwd ? { WorkingDir: options.cwd } : {}),
      Env: Object.entries(options.env ?? {}).map(([name, value]) => `${name}=${value}`),
    });
    // The signal bounds the start only: the hijacked stream then lives until close().
    const stream: Duplex = await exec.start({ hijack: true, stdin: true, abortSignal });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(stream, stdout, stderr);
    const finish = (): void => {
      stdout.end();
      stderr.end();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', (error: Error) => {
      stdout.destroy(error);
      stderr.destroy(error);
    });
    return {
      stdin: stream,
      stdout,
      stderr,
      close: () => {
        stream.end();
        stream.destroy();
      },
    };
  } catch (error) {
    if (starting.timedOut()) {
      throw new NexoraError('timeout', `could not start ${options.cmd[0] ?? 'a process'} in the workstation within ${timeoutMs} ms: the Docker engine did not answer in time`, { cause: error });
    }
    throw new NexoraError('workstation-failed', `could not start ${options.cmd[0] ?? 'a process'} in the workstation: ${describeError(error)}`, { cause: error });
  } finally {
    starting.done();
  }
}
