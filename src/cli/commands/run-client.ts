import { resolve } from 'node:path';
import type { NexoraClient } from '../../client/nexora-client.js';
import type { ApprovalRequest } from '../../agent/approval.js';
import { environmentOf, streamedError } from '../../client/client-env.js';
import { NexoraError } from '../../errors.js';
import { terminalApprover } from '../terminal-approver.js';
import { withServer } from './server-client.js';
import { visibleControls } from '../../visible-controls.js';

export interface RunRequest {
  task: string;
  workspace: string;
  model?: string | undefined;
  strategy?: string | undefined;
  session?: string | undefined;
  maxSteps?: number | undefined;
  maxCost?: number | undefined;
  json?: boolean | undefined;
  keep?: boolean | undefined;
  approve?: 'never' | 'risky' | 'always' | undefined;
  continue?: boolean | undefined;
  resume?: string | undefined;
  snapshot?: boolean | undefined;
}

/**
 * `nexora run` as a client: the run happens in the server (beside the web view and other
 * commands on the same store); its log streams back here. Ctrl+C asks the server to
 * interrupt it; a second Ctrl+C leaves at once (the server then interrupts it too).
 */
export async function runThroughServer(request: RunRequest, stdout: NodeJS.WritableStream = process.stdout): Promise<{ outcome: string }> {
  return withServer((client) => streamRun(client, request, stdout));
}

async function streamRun(client: NexoraClient, request: RunRequest, stdout: NodeJS.WritableStream): Promise<{ outcome: string }> {
  let runId: string | undefined;
  let outcome: string | undefined;
  let failure: NexoraError | undefined;
  let interrupted = false;
  const onInterrupt = (): void => {
    if (interrupted || !runId) process.exit(130);
    interrupted = true;
    stdout.write(`· interrupting: finishing the current step cleanly (Ctrl+C again to quit at once)\n`);
    void client.post(`/v1/runs/${runId}/interrupt`).catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  // The client's environment goes along: provider keys named in the config are read from it.
  const env = environmentOf();
  // With a person at this terminal, the server's approval questions are asked here.
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const ask = interactive ? terminalApprover({ input: process.stdin, output: process.stderr }) : undefined;
  const asking = new AbortController();
  const body = Object.fromEntries(Object.entries({ ...request, workspace: resolve(request.workspace), env, ...(interactive ? { interactive: true } : {}) }).filter(([, value]) => value !== undefined));
  try {
    await client.stream('POST', '/v1/runs', body, ({ event, data }) => {
      if (event === 'approval' && ask && runId) {
        const { id, ...question } = data as ApprovalRequest & { id: string };
        const run = runId;
        void ask(question, { signal: asking.signal })
          .then((decision) => client.post(`/v1/runs/${run}/approvals/${id}`, decision.approved ? { approved: true } : { approved: false, reason: decision.reason }))
          .catch(() => undefined);
      } else if (event === 'run') runId = (data as { id: string }).id;
      // The server's log is inert already; this is the last stop before the terminal.
      else if (event === 'output') stdout.write(visibleControls((data as { text: string }).text));
      else if (event === 'end') outcome = (data as { outcome: string }).outcome;
      else if (event === 'error') failure = streamedError(data);
    });
  } finally {
    asking.abort();
    process.off('SIGINT', onInterrupt);
  }
  if (failure) throw failure;
  if (!outcome) throw new NexoraError('server-unavailable', 'The server ended the run without an outcome: see `nexora server logs`.');
  return { outcome };
}
