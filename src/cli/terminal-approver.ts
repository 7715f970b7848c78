import { createInterface } from 'node:readline/promises';
import type { ApprovalDecision, ApprovalRequest, Approver } from '../agent/approval.js';
import { approvalPrompt } from '../output/approval-prompt.js';

/**
 * Asks the person at the terminal (`nexora run` with a terminal on stdin): the command, why it
 * needs a yes, and y/N. Anything but "y"/"yes" refuses; so does Ctrl+C at the prompt.
 */
export function terminalApprover(streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream }): Approver {
  // One question at a time: the agent runs tools one by one, but be safe with a queue.
  let queue: Promise<unknown> = Promise.resolve();
  return (request, { signal }) => {
    const asked = queue.then(() => ask(request, streams, signal));
    queue = asked.catch(() => undefined);
    return asked;
  };
}

async function ask(request: ApprovalRequest, streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream }, signal: AbortSignal): Promise<ApprovalDecision> {
  const readline = createInterface({ input: streams.input, output: streams.output, terminal: true });
  try {
    const prompt = approvalPrompt(request);
    streams.output.write(`\n${[prompt.heading, `    ${prompt.command}`, ...prompt.notes.map((note) => `  ${note}`), `  ${prompt.because}`].join('\n')}\n`);
    const answer = await readline.question('  Allow it? [y/N] ', { signal });
    return /^\s*y(es)?\s*$/i.test(answer) ? { approved: true } : { approved: false, reason: 'the person answered no' };
  } catch {
    return { approved: false, reason: 'the person did not answer' };
  } finally {
    readline.close();
  }
}
