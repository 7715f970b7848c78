import type { JobKind } from '../../client/api-schemas.js';
import { environmentOf, streamedError } from '../../client/client-env.js';
import { NexoraError } from '../../errors.js';
import { withServer } from './server-client.js';
import { visibleControls } from '../../visible-controls.js';

/**
 * Runs a command body in the server (it owns the store and the workstations) and streams its
 * output here. Ctrl+C closes the request, which aborts the job in the server.
 */
export async function jobThroughServer(kind: JobKind, options: Record<string, unknown>, stdout: NodeJS.WritableStream = process.stdout): Promise<{ exitCode: number; result: unknown }> {
  return withServer(async (client) => {
    let outcome: { exitCode: number; result?: unknown } | undefined;
    let failure: NexoraError | undefined;
    const env = environmentOf();
    const body = { kind, options: Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)), env };
    await client.stream('POST', '/v1/jobs', body, ({ event, data }) => {
      // Job logs quote the workstation (replay differences): inert before the terminal.
      if (event === 'output') stdout.write(visibleControls((data as { text: string }).text));
      else if (event === 'end') outcome = data as { exitCode: number; result?: unknown };
      else if (event === 'error') failure = streamedError(data);
    });
    if (failure) throw failure;
    if (!outcome) throw new NexoraError('server-unavailable', `The server ended \`${kind}\` without an outcome: see \`nexora server logs\`.`);
    return { exitCode: outcome.exitCode, result: outcome.result };
  });
}
