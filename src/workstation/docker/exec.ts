import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../workstation.js';
import { startDeadline } from './start-deadline.js';

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
/** How long a killed command's streams get to close before they are cut. */
const KILL_GRACE_MS = 3000;
/** Deadline for each Engine API request around a command (create, start, inspect, the kill). */
const REQUEST_TIMEOUT_MS = 30_000;

/** Collects one output stream up to a byte cap. */
class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;

  constructor(private readonly cap: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const room = this.cap - this.kept;
    if (room >= chunk.length) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
    } else {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.kept += Math.max(room, 0);
      this.dropped += chunk.length - Math.max(room, 0);
    }
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function argvOf(cmd: string | readonly string[]): string[] {
  if (typeof cmd === 'string') return ['bash', '-c', cmd];
  if (cmd.length === 0) throw new NexoraError('invalid-argument', 'exec needs a command: pass a command line or a non-empty argv.');
  return [...cmd];
}

/**
 * Runs a command in a running container through the Engine API exec, with stdout and
 * stderr demultiplexed. With a timeout or a signal the command runs in its own session
 * (`setsid`), and its whole process group is killed when either fires.
 */
export async function execInContainer(
  docker: Docker,
  containerId: string,
  options: ExecOptions,
): Promise<ExecResult> {
  const started = performance.now();
  const container = docker.getContainer(containerId);
  const killable = options.timeoutMs !== undefined || options.signal !== undefined;
  const pgidFile = `/run/nexora/exec-${randomBytes(6).toString('hex')}.pgid`;
  const argv = argvOf(options.cmd);
  // The inner shell becomes a session (and process group) leader, records its pgid, runs the
  // command and removes the record; killing -pgid reaches everything the command started.
  const cmd = killable
    ? ['setsid', '-w', 'sh', '-c', 'echo $$ > "$0"; "$@"; s=$?; rm -f "$0"; exit $s', pgidFile, ...argv]
    : argv;
  if (options.signal?.aborted) {
    throw new NexoraError('aborted', 'The command was not started: it was aborted before it began.');
  }
  let exec: Docker.Exec;
  let stream: NodeJS.ReadableStream;
  const starting = startDeadline(REQUEST_TIMEOUT_MS, options.signal);
  try {
    exec = await container.exec({
      abortSignal: starting.signal,
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
      ...(options.user !== undefined ? { User: options.user } : {}),
      WorkingDir: options.cwd ?? '/workspace',
      Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
    });
    stream = (await exec.start({ hijack: true, stdin: false, abortSignal: starting.signal })) as NodeJS.ReadableStream;
  } catch (error) {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'The command was not started: it was aborted before it began.', { cause: error });
    throw new NexoraError(
      'workstation-failed',
      `Could not run a command in workstation ${containerId.slice(0, 12)} (${describeError(error)}). Check that it is running and not paused: \`nexora session info <id>\`.`,
      { cause: error },
    );
  } finally {
    starting.done();
  }
  const cap = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const stdout = new Collector(cap);
  const stderr = new Collector(cap);
  docker.modem.demuxStream(stream, stdout, stderr);

  let timedOut = false;
  let aborted = false;
  let killing: Promise<void> | undefined;
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  const kill = (): void => {
    killing ??= killProcessGroup(docker, containerId, pgidFile, options.user).then(async () => {
      // A grandchild that escaped the group may still hold the streams open: cut them.
      const grace = new Promise<'grace'>((resolve) => setTimeout(resolve, KILL_GRACE_MS, 'grace').unref());
      if ((await Promise.race([ended.then(() => 'ended' as const), grace])) === 'grace') {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      }
    });
  };
  const timer =
    options.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, options.timeoutMs)
      : undefined;
  const onAbort = (): void => {
    aborted = true;
    kill();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await ended;
    if (killing) await killing;
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const killed = timedOut || aborted;
  // `setsid -w` reports a killed child as its own exit status 9 and a line on stderr: report
  // the shell convention (128 + SIGKILL) and drop setsid's line.
  const exitCode = killed ? 137 : await exitCodeOf(exec, false);
  const errors = killed ? stderr.text().replace(/^setsid: child \d+ did not exit normally.*\n?/m, '') : stderr.text();
  return {
    stdout: stdout.text(),
    stderr: errors,
    exitCode,
    durationMs: performance.now() - started,
    timedOut,
    aborted,
    droppedBytes: stdout.dropped + stderr.dropped,
  };
}

async function exitCodeOf(exec: Docker.Exec, killed: boolean): Promise<number> {
  // The stream can close a moment before the engine records the exit.
  for (let attempt = 0; attempt < 50; attempt++) {
    const info = await exec.inspect({ abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return killed ? 137 : -1;
}

async function killProcessGroup(docker: Docker, containerId: string, pgidFile: string, user: string | undefined): Promise<void> {
  // The pgid file appears within a few milliseconds of the start; wait for it briefly.
  const script = `for i in $(seq 1 100); do [ -s "$0" ] && break; sleep 0.01; done; pg=$(cat "$0" 2>/dev/null) && kill -KILL "-$pg" 2>/dev/null; rm -f "$0"`;
  const starting = startDeadline(REQUEST_TIMEOUT_MS, undefined);
  try {
    const killer = await docker.getContainer(containerId).exec({
      abortSignal: starting.signal,
      Cmd: ['sh', '-c', script, pgidFile],
      AttachStdout: false,
      AttachStderr: false,
      ...(user !== undefined ? { User: user } : {}),
    });
    const stream = (await killer.start({ hijack: true, stdin: false, abortSignal: starting.signal })) as NodeJS.ReadableStream;
    starting.done();
    // The killer script ends within about a second; never wait on it for longer than a request.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REQUEST_TIMEOUT_MS).unref();
      const finish = (): void => {
        clearTimeout(timer);
        resolve();
      };
      stream.once('end', finish);
      stream.once('close', finish);
      stream.once('error', finish);
      stream.resume();
    });
  } catch {
    // The container may be gone already, which ends the command too.
  } finally {
    starting.done();
  }
}
