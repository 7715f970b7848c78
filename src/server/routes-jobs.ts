import { Writable } from 'node:stream';
import { jobBodies, jobBody, type JobKind } from '../client/api-schemas.js';
import { describeError, NexoraError } from '../errors.js';
import { parseSessionId } from '../store/index.js';
import { errorPayload } from './api-http.js';
import { route, type ApiRoute } from './api-route.js';
import { openEventStream } from './event-stream.js';
import type { NexoraServer } from './nexora-server.js';

/** What a job runs with in the server. */
interface JobContext {
  server: NexoraServer;
  stdout: NodeJS.WritableStream;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** A job's outcome: the exit status its command has, and a small result for the client. */
interface JobOutcome {
  exitCode: number;
  result?: unknown;
}

const writeLine = (stdout: NodeJS.WritableStream) => (line: string) => void stdout.write(`${line}\n`);

/** Each kind: the command body it runs, given its validated options. */
const jobs: { [K in JobKind]: (options: ReturnType<(typeof jobBodies)[K]['parse']>, context: JobContext) => Promise<JobOutcome> } = {
  demo: async (options, { server, stdout }) => {
    const { demoJob } = await import('../jobs/demo.js');
    return { exitCode: await demoJob(options, { stdout, openManager: () => borrowedManager(server) }) };
  },
  replay: async (options, { server, stdout }) => {
    const { replaySession } = await import('../jobs/replay.js');
    const report = await replaySession({ sessionId: parseSessionId(options.sessionId), keep: options.keep === true, db: server.db, openManager: () => borrowedManager(server), write: writeLine(stdout) });
    return { exitCode: report.differences > 0 ? 1 : 0, result: { differences: report.differences, steps: report.steps.length } };
  },
  'replay-export': async (options, { server }) => {
    const { exportReplayScript } = await import('../jobs/replay.js');
    const written = await exportReplayScript({ sessionId: parseSessionId(options.sessionId), file: options.file, db: server.db });
    return { exitCode: 0, result: written };
  },
  init: async (options, { server, signal, env }) => {
    const { initProject } = await import('../jobs/init-project.js');
    const written = await initProject(options, { db: server.db, signal, env });
    return { exitCode: 0, result: written };
  },
};

/** The server's session manager, lent to a command body: closing it does not close the server's. */
async function borrowedManager(server: NexoraServer): Promise<{ manager: Awaited<ReturnType<NexoraServer['sessions']>>['manager']; config: Awaited<ReturnType<NexoraServer['sessions']>>['config']; close: () => Promise<void> }> {
  const runtime = await server.sessions();
  return { manager: runtime.manager, config: runtime.config, close: () => Promise.resolve() };
}

/** Commands that need the store and the workstations run here, their output streamed back. */
export function jobRoutes(server: NexoraServer): ApiRoute[] {
  return [
    route({
      method: 'POST',
      path: '/v1/jobs',
      summary: "Run a command that needs the server's store and workstations (demo, replay, replay-export, init). Server-sent events: output (its log), end (exit status and result) or error.",
      body: jobBody,
      streams: true,
      handler: async ({ body, response, signal }) => {
        const parsed = jobBodies[body.kind].safeParse(body.options);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const field = issue?.path.join('.') ?? '';
          throw Object.assign(new NexoraError('invalid-argument', `Invalid option "${field}" of ${body.kind}: ${issue?.message ?? 'invalid value'}.`), { field });
        }
        const stream = openEventStream(response);
        const stdout = new Writable({
          write(chunk: Buffer | string, _encoding, done) {
            stream.send('output', { text: chunk.toString() });
            done();
          },
        });
        server.log.info(`job ${body.kind} started`);
        try {
          const run = jobs[body.kind] as (options: unknown, context: JobContext) => Promise<JobOutcome>;
          const outcome = await run(parsed.data, { server, stdout, signal, env: server.clientEnv(body.env) });
          server.log.info(`job ${body.kind}: exit ${outcome.exitCode}`);
          stream.send('end', outcome);
        } catch (error) {
          server.log.info(`job ${body.kind} failed: ${describeError(error)}`);
          stream.send('error', errorPayload(error));
        }
        stream.end();
        return 'written' as const;
      },
    }),
  ];
}
