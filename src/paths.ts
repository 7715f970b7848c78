import { homedir } from 'node:os';
import { join } from 'node:path';

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
    userInstructions: join(home, 'AGENTS.md'),
    snapshots: join(home, 'snapshots'),
  };
}

/** The root of the installed package (where package.json, src/ and dist/ live). */
export function packageRoot(): string {
  // This file is src/paths.ts or dist/paths.js: one level below the root either way.
  return new URL('..', import.meta.url).pathname;
}
