import type { CommandEntry } from '../register-commands.js';

/**
 * `nexora session …`: it only talks to the server, so it also runs from the bundled client
 * path (dist/cli/client.cjs, see scripts/bundle-client.mjs), which takes everything this entry
 * loads — keep heavy modules (the agent, Ink, the store, Docker) out of its imports.
 */
export const sessionCommand: CommandEntry = {
  name: 'session',
  aliases: ['sessions'],
  description: 'start, list, stop and inspect sessions and their workstations',
  load: async () => [
    (await import('./session.js')).registerSessionCommand,
    (await import('./export-command.js')).registerExportCommand,
    (await import('./replay-command.js')).registerReplayCommand,
  ],
};

/** The commands of the bundled client path. */
export const clientCommands: readonly CommandEntry[] = [sessionCommand];
