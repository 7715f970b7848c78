import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where Nexora keeps its state. This is the one module that asks the OS for the home
 * directory; everything else takes paths from here.
 */
export interface NexoraPaths {
  home: string;
  database: string;
  secrets: string;
  masterKey: string;
  config: string;
  screenshots: string;
  logs: string;
  /** Launcher pages for the web view (mode 0700): the URL with its token never goes on a command line. */
  viewLaunchers: string;
  /** Each session's picture of its workspace's git metadata at its start. */
  gitBaselines: string;
  /** The user's own instructions for the agent, in every project (`~/.nexora/AGENTS.md`). */
  userInstructions: string;
  /** Workspace copies taken at a session's start, for replays (only when the user opts in). */
  snapshots: string;
}

export function nexoraPaths(env: NodeJS.ProcessEnv = process.env): NexoraPaths {
  const home = env.NEXORA_HOME && env.NEXORA_HOME.length > 0 ? env.NEXORA_HOME : join(homedir(), '.nexora');
  return {
    home,
    database: join(home, 'db'),
    secrets: join(home, 'secrets'),
    masterKey: join(home, 'secrets', 'master.key'),
    config: join(home, 'config.json'),
    screenshots: join(home, 'screenshots'),
    logs: join(home, 'logs'),
    viewLaunchers: join(home, 'view'),
    gitBaselines: join(home, 'git-baselines'),
    userInstructions: join(home, 'AGENTS.md'),
    snapshots: join(home, 'snapshots'),
  };
}

/**
 * Where per-user runtime files may go when the Nexora home cannot hold them (a socket path
 * must fit sockaddr_un): `$XDG_RUNTIME_DIR` when set, and the temporary directory. Read from
 * the given environment, not this process's, so that a client and the server it starts with
 * that environment agree.
 */
export function runtimeRoots(env: NodeJS.ProcessEnv = process.env): { runtime: string | undefined; temporary: string } {
  const runtime = env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/') ? stripTrailingSlashes(env.XDG_RUNTIME_DIR) : undefined;
  // As os.tmpdir() reads it on POSIX, but from `env`.
  const temporary = [env.TMPDIR, env.TMP, env.TEMP].find((value) => value !== undefined && value.startsWith('/'));
  return { runtime, temporary: temporary ? stripTrailingSlashes(temporary) : '/tmp' };
}

function stripTrailingSlashes(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

/** The user's home directory ($HOME on POSIX). */
export function userHome(): string {
  return homedir();
}

/** The root of the installed package (where package.json, src/ and dist/ live). */
export function packageRoot(): string {
  // This file is src/paths.ts or dist/paths.js: one level below the root either way.
  // fileURLToPath, not URL.pathname: the pathname keeps %20 for a space (and every other
  // escape), so an install under "/tmp/p fx" would look for "/tmp/p%20fx".
  return fileURLToPath(new URL('..', import.meta.url));
}
