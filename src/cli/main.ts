import { Command, CommanderError } from 'commander';
import { NexoraError, describeError } from '../errors.js';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('nexora')
  .description('An AI coding agent that sees a real terminal desktop and types into it.')
  .version('0.1.0')
  .showHelpAfterError('(run `nexora --help` for usage)')
  .exitOverride();

await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (help, version or a usage error).
    process.exitCode = error.exitCode;
  } else if (NexoraError.is(error)) {
    process.stderr.write(`nexora: ${error.message}\n`);
    if (process.env.NEXORA_DEBUG && error.cause) process.stderr.write(`cause: ${describeError(error.cause)}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`nexora: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
