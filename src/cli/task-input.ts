import { NexoraError } from '../errors.js';

/** A task longer than this is a file piped by mistake, not instructions. */
const maxTaskBytes = 256 * 1024;

export interface TaskInput {
  /** What was given on the command line: the task, `-`, or nothing. */
  argument: string | undefined;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  signal?: AbortSignal;
}

/**
 * The task for `nexora run`: the argument, or stdin when the argument is `-` or missing and
 * stdin is not a terminal (`echo "fix the tests" | nexora run`), the way scripts pass text.
 */
export async function readTask(input: TaskInput): Promise<string> {
  const { argument, stdin } = input;
  if (argument !== undefined && argument !== '-') return argument;
  if (argument === undefined && stdin.isTTY) {
    throw new NexoraError('invalid-argument', 'Missing the task: `nexora run "what to do"`, or pipe it in: `echo "what to do" | nexora run -`.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    input.signal?.throwIfAborted();
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxTaskBytes) {
      throw new NexoraError('invalid-argument', `The task on stdin is longer than ${maxTaskBytes / 1024} KiB: say what to do in words, and let the agent read files from the workspace.`);
    }
    chunks.push(buffer);
  }
  const task = Buffer.concat(chunks).toString('utf8').trim();
  if (task.length === 0) {
    throw new NexoraError('invalid-argument', 'No task arrived on stdin: pipe one in (`echo "what to do" | nexora run -`) or give it as an argument (`nexora run "what to do"`).');
  }
  return task;
}
