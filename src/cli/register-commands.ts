import type { Command } from 'commander';

type Register = (program: Command) => void;

export interface CommandEntry {
  name: string;
  aliases?: string[];
  /** For the top-level help, which lists commands without loading them. */
  description: string;
  /** The modules that register this command (a command's subcommands may live in several). */
  load: () => Promise<Register[]>;
}

/**
 * Registers the commands of `commands` that `argv` (without node and the script) needs: the
 * named one, or for the top-level help and version only their names and descriptions.
 */
export async function registerCommands(program: Command, argv: readonly string[], commands: readonly CommandEntry[]): Promise<void> {
  const first = argv.find((argument) => !argument.startsWith('-'));
  const topLevelOnly = first === undefined && argv.some((argument) => ['-h', '--help', '-V', '--version'].includes(argument));
  if (topLevelOnly) {
    for (const entry of commands) {
      const stub = program.command(entry.name).description(entry.description);
      for (const alias of entry.aliases ?? []) stub.alias(alias);
    }
    return;
  }
  const named = first === undefined ? commands.filter((entry) => entry.name === 'tui') : commands.filter((entry) => entry.name === first || entry.aliases?.includes(first));
  // An unknown word (or `help`): load everything so commander can list or suggest.
  const wanted = named.length > 0 ? named : commands;
  const registered = new Set<Register>();
  for (const entry of wanted) {
    for (const register of await entry.load()) {
      if (registered.has(register)) continue;
      registered.add(register);
      register(program);
    }
  }
}
