import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { setupScriptCommand } from '../../package-info.js';
import { silentProgress, type BuildProgress } from './build-progress.js';
import { debianMirrorArguments, debianSuite } from './debian-sources.js';
import { readEngineStream } from './engine-stream.js';
import { importChanges } from './image-config.js';
import type { ImageDefinition } from './image-definition.js';
import { debianPackageNames } from './package-list.js';

/** Quotes a path for the sh -c that runs mmdebstrap's hooks. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * mmdebstrap's arguments: a bookworm root filesystem of the `apt` variant plus the package
 * list (no recommends, no documentation beyond copyright files), with our files and user
 * put in by install-files.sh, written as a tar to stdout.
 */
export function mmdebstrapArguments(definition: ImageDefinition, env: NodeJS.ProcessEnv = process.env): string[] {
  const files = definition.filesDirectory;
  return [
    '--variant=apt',
    '--format=tar',
    `--aptopt=Apt::Install-Recommends "false"`,
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/info/*',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    `--include=${debianPackageNames(definition.packages).join(',')}`,
    // /run/nexora must survive: containers run without a tmpfs there still need it.
    '--skip=cleanup/run',
    `--customize-hook=sh ${shellQuote(join(files, 'install-files.sh'))} "$1" ${shellQuote(files)}`,
    debianSuite,
    '-',
    ...debianMirrorArguments({ env }),
  ];
}

export interface ImportRootfsOptions {
  docker: Docker;
  definition: ImageDefinition;
  labels: Record<string, string>;
  progress?: BuildProgress;
  signal?: AbortSignal;
  /** The program to run (tests and odd installs); `mmdebstrap` on PATH by default. */
  mmdebstrap?: string;
}

/**
 * Bootstraps the root filesystem with mmdebstrap and streams its tar straight into the
 * Engine API's image import (no temporary file, no docker CLI). Resolves with the new
 * image's id, untagged: the caller tags it once everything worked.
 */
export async function importRootfs(options: ImportRootfsOptions): Promise<string> {
  const progress = options.progress ?? silentProgress;
  const program = options.mmdebstrap ?? 'mmdebstrap';
  const child = spawn(program, mmdebstrapArguments(options.definition), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  // Aborts the import request too: a request whose body stream failed would otherwise hang.
  const importAbort = new AbortController();
  const onAbort = (): void => {
    child.kill('SIGTERM');
    importAbort.abort();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const stderrTail: string[] = [];
  let stderrPending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrPending += chunk;
    const lines = stderrPending.split('\n');
    stderrPending = lines.pop() ?? '';
    for (const line of lines) {
      stderrTail.push(line);
      if (stderrTail.length > 30) stderrTail.shift();
      // mmdebstrap's phase lines: "I: downloading packages with apt...".
      if (line.startsWith('I: ')) progress.progress(line.slice(3).replace(/\.\.\.$/, ''));
    }
  });

  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });

  let bytes = 0;
  let reported = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes - reported >= 250 * 1024 * 1024) {
        reported = bytes;
        progress.progress(`imported ${Math.round(bytes / 1024 / 1024)} MB`);
      }
      callback(null, chunk);
    },
  });

  // If mmdebstrap fails, the import must not finish with a half root filesystem.
  const failed = exited.then(
    (code) => {
      if (code !== 0) {
        counter.destroy(new Error(`mmdebstrap exited with ${code}`));
        importAbort.abort();
      }
      return code;
    },
    (error: unknown) => {
      counter.destroy(error instanceof Error ? error : new Error(String(error)));
      importAbort.abort();
      throw error;
    },
  );
  // Awaited below; this keeps an early spawn failure from counting as unhandled meanwhile.
  failed.catch(() => undefined);

  try {
    // mmdebstrap writes the tar only at its end, minutes from now: an import request idle
    // that long gets cut off, so it starts with the first byte (or not at all).
    const first = await new Promise<Buffer>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        child.stdout.pause();
        child.stdout.off('data', onData);
        resolve(chunk);
      };
      child.stdout.on('data', onData);
      failed.then((code) => reject(new Error(code === 0 ? 'mmdebstrap wrote no root filesystem' : `mmdebstrap exited with ${code}`)), reject);
    });
    counter.write(first);
    child.stdout.pipe(counter);
    progress.progress('importing into the engine');
    const response = await options.docker.importImage(counter, {
      changes: importChanges(options.labels),
      message: `nexora workstation ${options.definition.hash}`,
      abortSignal: importAbort.signal,
    });
    const [messages, code] = await Promise.all([readEngineStream(response), failed]);
    if (code !== 0) throw new Error(`mmdebstrap exited with ${code}`);
    const id = messages.map((message) => message.status ?? '').find((status) => /^sha256:[0-9a-f]{64}$/.test(status.trim()));
    if (!id) throw new Error(`the Engine API import answered without an image id (${JSON.stringify(messages.slice(-3))})`);
    progress.progress(`imported ${Math.round(bytes / 1024 / 1024)} MB`);
    return id.trim();
  } catch (caught) {
    child.kill('SIGTERM');
    // mmdebstrap blocks writing its tar to a pipe nobody reads: close it so it can exit.
    child.stdout.destroy();
    const code = await exited.catch(() => null);
    const spawnError = await failed.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    const error = spawnError ?? caught;
    if (options.signal?.aborted) throw new NexoraError('aborted', 'The image build was cancelled.', { cause: error });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NexoraError(
        'image-build-failed',
        `mmdebstrap is not installed: install it (Debian/Ubuntu: \`apt-get install mmdebstrap debian-archive-keyring\`${setupScriptCommand() ? `; \`${setupScriptCommand()}\` does this` : ''}), or build from the Dockerfile with \`nexora image build --dockerfile\` where base images can be pulled.`,
        { cause: error },
      );
    }
    const tail = stderrTail.filter((line) => line.trim().length > 0).slice(-12).join('\n');
    throw new NexoraError(
      'image-build-failed',
      `Building the workstation's root filesystem failed${code !== null && code !== 0 ? ` (mmdebstrap exited with ${code})` : ''}: ${describeError(error)}.${tail ? `\nmmdebstrap said:\n${tail}` : ''}\nmmdebstrap must run as root (or with unprivileged user namespaces) and reach a Debian mirror (set NEXORA_DEBIAN_MIRROR to use another).`,
      { cause: error },
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
