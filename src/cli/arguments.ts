import type { Command } from 'commander';
import { NexoraError } from '../errors.js';
import { closestMatch } from './suggest.js';

export interface NormalizeOptions {
  /** False when stdin is a pipe or a file: then `nexora` alone reads its task from it. */
  stdinIsTerminal: boolean;
}

const printFlags = new Set(['-p', '--print']);
const helpOrVersion = new Set(['-h', '--help', '-V', '--version']);

/**
 * Rewrites the conventions commander cannot express into the commands that carry them out, and
 * refuses unknown commands before commander's default command swallows them as arguments
 * (it said "too many arguments for 'tui'" for `nexora sesion list`):
 *   - `nexora -p "task" [flags]` (as in Claude Code) → `nexora run "task" [flags]`;
 *   - `nexora -p [flags]`, or `nexora [flags]` with a task piped on stdin → `nexora run - [flags]`.
 */
export function normalizeArguments(args: readonly string[], program: Command, options: NormalizeOptions): string[] {
  const first = args[0];
  if (first !== undefined && !first.startsWith('-')) {
    checkCommandPath(args, program);
    return [...args];
  }
  const printAt = args.findIndex((arg) => printFlags.has(arg) || arg.startsWith('--print='));
  if (printAt >= 0) {
    const flag = args[printAt] ?? '';
    const rest = [...args.slice(0, printAt)];
    let task: string;
    let after = printAt + 1;
    if (flag.startsWith('--print=')) {
      task = flag.slice('--print='.length);
    } else {
      const next = args[printAt + 1];
      // `-p` followed by another flag (or nothing) takes its task from stdin.
      task = next !== undefined && (next === '-' || !next.startsWith('-')) ? next : '-';
      if (next !== undefined && task === next) after++;
    }
    rest.push(...args.slice(after));
    return ['run', task, ...rest];
  }
  if (!options.stdinIsTerminal && !args.some((arg) => helpOrVersion.has(arg))) return ['run', '-', ...args];
  return [...args];
}

/**
 * Walks the command words (`session list`) and fails on the first one that names no command,
 * suggesting the nearest. Stops at the first flag: what follows may be a flag's value.
 */
function checkCommandPath(args: readonly string[], program: Command): void {
  let command = program;
  const path: string[] = [];
  for (const word of args) {
    if (word.startsWith('-') || command.commands.length === 0) return;
    const child = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (!child) {
      // Commander's own help command (`nexora help session`) is not in the list.
      if (word === 'help') return;
      const names = command.commands.flatMap((candidate) => [candidate.name(), ...candidate.aliases()]);
      const guess = closestMatch(word, command === program ? [...names, 'help'] : names);
      const typed = [...path, word].join(' ');
      const helpCommand = ['nexora', ...path, '--help'].join(' ');
      throw new NexoraError(
        'invalid-argument',
        guess ? `unknown command '${typed}' — did you mean '${[...path, guess].join(' ')}'? (\`${helpCommand}\` lists the commands)` : `unknown command '${typed}': \`${helpCommand}\` lists the commands.`,
      );
    }
    command = child;
    path.push(word);
  }
}
