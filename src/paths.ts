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
