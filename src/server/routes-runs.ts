import { Writable } from 'node:stream';
import type { Approver } from '../agent/approval.js';
import { approvalAnswerBody, approvalParams, runBody, runIdParams } from '../client/api-schemas.js';
import { describeError, NexoraError } from '../errors.js';
import { routingStrategies } from '../providers/router.js';
import { attachTools } from '../tools/connect-tools.js';
import { errorPayload } from './api-http.js';
import { route, type ApiRoute } from './api-route.js';
import { openEventStream } from './event-stream.js';
import type { NexoraServer } from './nexora-server.js';

/** Agent runs in the server: started by a client, streamed back to it, interruptible. */
export function runRoutes(server: NexoraServer): ApiRoute[] {
  return [
    route({
      method: 'POST',
      path: '/v1/runs',
      summary:
        "Run the agent on a task. Server-sent events: run (its id), output (the run's log or JSON lines), agent (typed events, when asked), approval (a command waiting for a yes, when interactive), end (the outcome) or error.",
      body: runBody,
      streams: true,
      handler: async ({ body, response, signal }) => {
        const strategy = body.strategy;
        if (strategy !== undefined && !(routingStrategies as readonly string[]).includes(strategy)) {
          throw Object.assign(new NexoraError('invalid-argument', `Invalid field "strategy": use one of ${routingStrategies.join(', ')}.`), { field: 'strategy' });
        }
        const { runTask } = await import('../jobs/run-task.js');
        const runtime = await server.sessions();
        const stream = openEventStream(response);
        const id = server.runs.newId();
        const controller = new AbortController();
        // The client went away (killed, or a second Ctrl+C): the run stops at its next step.
        signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
        stream.send('run', { id });
        const stdout = new Writable({
          write(chunk: Buffer | string, _encoding, done) {
            stream.send('output', { text: chunk.toString() });
            done();
          },
        });
        const { env, interactive, events, ...flags } = body;
        server.log.info(`run ${id} started${flags.session ? ` on ${flags.session}` : ''}`);
        // The server has no terminal: its client answers approval questions, or no one does
        // and commands that need a yes are refused.
        const approver: Approver | null = interactive
          ? (request, { signal: asked }) =>
              server.runs.ask(id, request, {
                signal: AbortSignal.any([asked, controller.signal]),
                announce: (approval) => stream.send('approval', { id: approval, ...request }),
              })
          : null;
        const done = runTask(
          { ...flags, strategy: strategy as (typeof routingStrategies)[number] | undefined },
          {
            approver,
            onEvent: (event: { type: string }, sessionId: string) => {
              if (event.type === 'run-start') server.runs.setSession(id, sessionId);
              if (events) stream.send('agent', { sessionId, event });
            },
            db: server.db,
            openManager: () => Promise.resolve({ manager: runtime.manager, config: runtime.config, close: () => Promise.resolve() }),
            stdout,
            signal: controller.signal,
            // One set of channels per session, shared with the API's callers.
            connectTools: async (sessionId) => attachTools(await server.live.get(sessionId)),
            env: server.clientEnv(env),
          },
        );
        server.runs.add({ id, sessionId: flags.session, task: flags.task, startedAt: new Date(), controller, done });
        try {
          const result = await done;
          // A parked or stopped workstation's channels are of no use (a paused container answers
          // nothing): the next caller opens new ones, which takes the parked session up again.
          if (result.keptUntil || result.sessionStopped) server.closeChannels(result.sessionId);
          // Why a run did not complete is what someone sent to `nexora server logs` looks for (the log makes it inert).
          server.log.info(`run ${id} on ${result.sessionId}: ${result.outcome}${result.outcome === 'completed' ? '' : ` (${result.reason})`}`);
          stream.send('end', { outcome: result.outcome, reason: result.reason, sessionId: result.sessionId, sessionStopped: result.sessionStopped, steps: result.steps });
        } catch (error) {
          server.log.info(`run ${id} failed: ${describeError(error)}`);
          stream.send('error', errorPayload(error));
        }
        stream.end();
        return 'written' as const;
      },
    }),
    route({
      method: 'GET',
      path: '/v1/runs',
      summary: 'The agent runs in progress.',
      handler: () => ({ json: { runs: server.runs.list() } }),
    }),
    route({
      method: 'POST',
      path: '/v1/runs/:id/approvals/:approval',
      summary: 'Answer a command waiting for a yes in a run (announced by its approval event).',
      params: approvalParams,
      body: approvalAnswerBody,
      handler: ({ params, body }) => {
        server.runs.answer(params.id, params.approval, body.approved ? { approved: true } : { approved: false, reason: body.reason ?? 'the person answered no' });
        return { json: { answered: params.approval, approved: body.approved } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/runs/:id/interrupt',
      summary: 'Interrupt a run: it finishes its current step cleanly and keeps its session.',
      params: runIdParams,
      handler: ({ params }) => {
        server.runs.interrupt(params.id);
        return { json: { interrupted: params.id } };
      },
    }),
  ];
}
