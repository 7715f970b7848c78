import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NexoraError } from '../../errors.js';

export interface InitialiseDataDirOptions {
  /** The (empty) directory to fill; it is replaced in one rename when initdb has succeeded. */
  dataDir: string;
  startParams: string[];
  signal?: AbortSignal;
  /** default 300 s: initdb in WebAssembly takes 3–10 s on a loaded 2-core machine. */
  timeoutMs?: number;
}

// CommonJS, so the child needs no loader and no file of ours: it runs the same PGlite build as
// the parent, named by path.
const childScript = `
const [entry, dataDir, params] = process.argv.slice(1);
require(entry).PGlite.create(dataDir, { startParams: JSON.parse(params) })
  .then((pg) => pg.close())
  .then(() => process.exit(0), (error) => { process.stderr.write(String(error && error.message || error)); process.exit(1); });
`;

/**
 * Runs PGlite's initdb in a short-lived child process. initdb grows the WebAssembly heap to
 * several hundred MiB (a second PostgreSQL instance plus the initdb module), and WebAssembly
 * memory is never given back: done in the server, that cost would stay for the server's life.
 * The child writes into a sibling directory that is renamed into place only once it has
 * exited cleanly, so a failed or interrupted initdb leaves nothing half-made.
 */
export async function initialiseDataDir(options: InitialiseDataDirOptions): Promise<void> {
  const scratch = `${options.dataDir}.init-${randomBytes(4).toString('hex')}`;
  mkdirSync(scratch, { mode: 0o700 });
  try {
    await runChild(scratch, options);
    // rename(2) replaces an empty directory atomically; a non-empty one fails with ENOTEMPTY.
    renameSync(scratch, options.dataDir);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

async function runChild(scratch: string, options: InitialiseDataDirOptions): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 300_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  signal.throwIfAborted();
  const child = spawn(process.execPath, ['--liftoff-only', '-e', childScript, entry, scratch, JSON.stringify(options.startParams)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    signal,
    killSignal: 'SIGKILL',
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    // An abort kills the child and reports an error first; wait for its exit all the same,
    // so the scratch directory is removed only once nothing writes into it.
    child.once('error', (error) => {
      if (!signal.aborted) reject(error);
    });
    child.once('close', (exitCode) => resolve(exitCode));
  });
  if (signal.aborted) {
    const timedOut = timeout.aborted && !options.signal?.aborted;
    throw new NexoraError(
      timedOut ? 'timeout' : 'aborted',
      timedOut
        ? `Creating the embedded database at ${options.dataDir} took longer than ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s; nothing was left behind. Try again on a less loaded machine.`
        : `Stopped creating the embedded database at ${options.dataDir}; nothing was left behind.`,
      { cause: signal.reason },
    );
  }
  if (code !== 0) {
    throw new NexoraError('database-failed', `Could not create the embedded database at ${options.dataDir}: initdb exited with ${code}${stderr.trim() ? ` (${stderr.trim().split('\n').at(-1)})` : ''}. Nothing was left behind; check free disk space and try again.`);
  }
}
