import { Command } from 'commander';
import { packageVersion } from '../package-info.js';
import { normalizeArguments } from './arguments.js';
import { describeFailure } from './failure.js';
import { registerCommands, type CommandEntry } from './register-commands.js';

/**
 * The CLI: the program, the commands of `commands` that `argv` needs, and how a failure ends
 * (its message on stderr, the exit status in process.exitCode).
 */
export async function runCli(argv: readonly string[], commands: readonly CommandEntry[]): Promise<void> {
  const program = new Command();
  program
    .name('nexora')
    .description('An AI coding agent that sees a real terminal desktop and types into it.')
    .version(packageVersion())
    .showHelpAfterError('(run `nexora --help` for usage)')
    .addHelpText(
      'after',
      '\nIn scripts:\n  nexora -p "task" [run options]  run a task without the UI and print its log (the same as `nexora run "task"`)\n  echo "task" | nexora run -       the task from stdin (so does `nexora -p` with no task, or `nexora` with a pipe)\n\nExit status: 0 done, 1 failed, 2 usage error (unknown command, bad option or value), 130 interrupted.',
    )
    .exitOverride();

  await registerCommands(program, argv, commands);

  try {
    const args = normalizeArguments(argv, program, { stdinIsTerminal: process.stdin.isTTY === true });
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    const failure = describeFailure(error);
    if (failure.message !== undefined) process.stderr.write(`nexora: ${failure.message}\n`);
    if (process.env.NEXORA_DEBUG && failure.debug !== undefined) process.stderr.write(`cause: ${failure.debug}\n`);
    process.exitCode = failure.exitCode;
  }
}
