import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import type { HealthBody } from './api-schemas.js';
import { NexoraClient } from './nexora-client.js';
import { securePrivateHome } from './private-dirs.js';
import { engineSettings, serverFiles, storeFingerprint, type ServerFiles } from './server-files.js';
import { buildId } from './version.js';

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** Start a server in the background when none answers (default true). */
  autoStart?: boolean;
  /** Told once when a server is being started. */
  onStart?: (message: string) => void;
  /** How long to wait for a started server to answer. Default 300 s (a first start creates the store, slow on a loaded host). */
  startTimeoutMs?: number;
}

export interface ConnectedServer {
  client: NexoraClient;
  health: HealthBody;
  /** True when this call started the server. */
  started: boolean;
}

/**
 * How to run `nexora serve` as this build: the bin script (which runs dist/), or, when this
 * module runs from source (a .ts file under a loader such as tsx), the source CLI under the
 * same loader — a server from another build would be refused as a mismatch.
 */
const fromSource = import.meta.url.endsWith('.ts');
const serveCommand: string[] = fromSource
  ? [...process.execArgv, fileURLToPath(new URL('../cli/main.ts', import.meta.url)), 'serve']
  : [fileURLToPath(new URL('../../bin/nexora.js', import.meta.url)), 'serve'];

/**
 * Connects to the home's server, starting one in the background when none answers. Several
 * commands doing this at once start one server: the others' `serve` refuse (the lock), and
 * every command waits for the one that won.
 */
export async function connectToServer(options: ConnectOptions = {}): Promise<ConnectedServer> {
  const env = options.env ?? process.env;
  const { client, files } = homeServerClient(env);
  const first = await probe(client);
  if (first) return { client, health: checkServer(first, env), started: false };
  if (options.autoStart === false) {
    client.close();
    throw new NexoraError('server-unavailable', 'No Nexora server runs for this home: start one with `nexora server start` (or run any session command, which starts it).');
  }
  // The log may hold earlier attempts: a failure shows only what this one wrote.
  const logStart = logSize(files.log);
  const child = startServerProcess(env);
  options.onStart?.(`starting the Nexora server in the background (pid ${child.pid ?? '?'}, log ${files.log})`);
  const deadline = Date.now() + (options.startTimeoutMs ?? 300_000);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const health = await probe(client);
    if (health) return { client, health: checkServer(health, env), started: true };
    // Exit code 3: another command's server won the race; keep waiting for it.
    if (exited !== undefined && exited !== 3 && exited !== 0) {
      client.close();
      throw new NexoraError('server-unavailable', `The Nexora server did not start (exit code ${exited}): ${lastLogLines(files.log, logStart)}\nThe whole log: ${files.log}`);
    }
  }
  client.close();
  throw new NexoraError('server-unavailable', `The Nexora server did not answer within ${Math.round((options.startTimeoutMs ?? 300_000) / 1000)} s: see ${files.log}.`);
}

/**
 * A client of the home's server, without connecting yet. A home that exists is checked first
 * (refused when another user owns it or others may write it; tightened to 0700 when others
 * may only read it), so that the socket in it passes the client's checks.
 */
export function homeServerClient(env: NodeJS.ProcessEnv = process.env): { client: NexoraClient; files: ServerFiles } {
  const paths = nexoraPaths(env);
  securePrivateHome(paths.home, { create: false });
  const files = serverFiles(paths, env);
  return { client: new NexoraClient({ socketPath: files.socket }), files };
}

/** Spawns `nexora serve` detached, its early output appended to the log. */
export function startServerProcess(env: NodeJS.ProcessEnv): ReturnType<typeof spawn> {
  const paths = nexoraPaths(env);
  const files = serverFiles(paths, env);
  securePrivateHome(paths.home, { create: false });
  // With the home when it is missing, both 0700 (the server checks the home again as it opens).
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const log = openSync(files.log, 'a', 0o600);
  try {
    const child = spawn(process.execPath, serveCommand, { env, detached: true, stdio: ['ignore', log, log] });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

async function probe(client: NexoraClient): Promise<HealthBody | undefined> {
  try {
    return await client.get<HealthBody>('/v1/health', { timeoutMs: 5000 });
  } catch (error) {
    if (NexoraError.is(error, 'server-unavailable')) return undefined;
    throw error;
  }
}

function checkServer(health: HealthBody, env: NodeJS.ProcessEnv): HealthBody {
  const wanted = storeFingerprint(env, nexoraPaths(env));
  if (health.store.fingerprint !== undefined && health.store.fingerprint !== wanted) {
    throw new NexoraError(
      'server-running',
      `The running Nexora server (pid ${health.pid}) uses another store (${health.store.kind} at ${health.store.location}) than this command's environment names (DATABASE_URL ${env.DATABASE_URL ? 'set' : 'unset'}). Stop it with \`nexora server stop\` and run the command again, or use the same DATABASE_URL.`,
    );
  }
  const theirs = health.engine;
  if (theirs) {
    const differing = Object.entries(engineSettings(env)).filter(([name, value]) => (theirs[name] ?? null) !== value);
    if (differing.length > 0) {
      const shown = (value: string | null | undefined): string => (value ? value : 'unset');
      throw new NexoraError(
        'server-running',
        `The running Nexora server (pid ${health.pid}) was started with another engine: ${differing.map(([name, value]) => `${name} is ${shown(theirs[name])} there, ${shown(value)} here`).join('; ')}. ` +
          'Restart it from this environment: `nexora server stop && nexora server start` (sessions keep running), or run the command with the server\'s settings.',
      );
    }
  }
  const mine = buildId();
  if (health.build !== mine) {
    throw new NexoraError(
      'server-version-mismatch',
      `The running Nexora server (pid ${health.pid}) is build ${health.build}; this command is build ${mine}. Restart it: \`nexora server stop\`, then run the command again (it starts a new server).`,
    );
  }
  return health;
}

/** The log's size now (0 when it cannot be read: the start below then says why). */
function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function lastLogLines(file: string, from = 0): string {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(file, 'r');
    const size = statSync(file).size;
    const start = Math.max(from, size - 64 * 1024);
    const bytes = Buffer.alloc(Math.max(0, size - start));
    readSync(descriptor, bytes, 0, bytes.length, start);
    const lines = bytes.toString('utf8').trimEnd().split('\n').slice(-5).join('\n');
    return lines || '(nothing in the log)';
  } catch {
    return '(no log)';
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
