import { clientCommands } from './commands/client-commands.js';
import { runCli } from './run-cli.js';

/**
 * The entry of the bundled client path, dist/cli/client.cjs (scripts/bundle-client.mjs):
 * bin/nexora.js runs it for the commands named here, main.ts for every other. Same code as
 * main.ts with fewer commands, in one CommonJS file instead of ~120 ES modules.
 */
export const clientCommandNames: readonly string[] = clientCommands.flatMap((entry) => [entry.name, ...(entry.aliases ?? [])]);

export function main(argv: readonly string[]): Promise<void> {
  return runCli(argv, clientCommands);
}
