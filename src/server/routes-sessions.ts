import {
  exportBody,
  gcBody,
  listSessionsQuery,
  sessionIdParams,
  sessionInfoQuery,
  startSessionBody,
  stopSessionBody,
} from '../client/api-schemas.js';
import { describeError, NexoraError } from '../errors.js';
import type { ContainerInfo } from '../sessions/container-info.js';
import type { StartedSession } from '../sessions/session-manager.js';
import { maskPassword } from '../sessions/vnc-password.js';
import { parseSessionId } from '../store/index.js';
import { parseNumericUser } from '../workstation/workspace-owner.js';
import { errorPayload } from './api-http.js';
import { route, type ApiRoute } from './api-route.js';
import { openEventStream } from './event-stream.js';
import type { NexoraServer } from './nexora-server.js';

/** A started or resumed session as the API returns it. */
export function startedBody(started: StartedSession): Record<string, unknown> {
  return {
    session: started.session,
    info: started.info,
    vnc: `${started.workstation.rfb().host}:${started.info.vncPort}`,
    devtools: `nexora session devtools ${started.session.id}`,
    fromPool: started.fromPool,
    durationMs: Math.round(started.durationMs),
  };
}

export function sessionRoutes(server: NexoraServer): ApiRoute[] {
  return [
    route({
      method: 'POST',
      path: '/v1/sessions',
      summary: 'Start a session: from the warm pool when it has one, else a cold start through the admission queue. Streams queue place and progress on Accept: text/event-stream.',
      body: startSessionBody,
      streams: true,
      handler: async ({ body, signal, response, wantsStream }) => {
        const stream = wantsStream ? openEventStream(response) : undefined;
        let step = 'opening the session runtime';
        const progress = (text: string): void => {
          step = text;
          stream?.send('progress', { step: text });
        };
        try {
          const workspaceDir = server.workspace(body.workspaceDir);
          const runtime = await server.sessions();
          const user = body.user ? parseNumericUser(body.user) : undefined;
          const target = { workspaceDir, ...(user ? { user } : {}), ...(body.startChromium ? { startChromium: true } : {}) };
          // One start path for both ways (the manager's record defaults and git baseline alike);
          // only the cold start waits its turn in the admission queue.
          const started = await runtime.manager.start({
            ...target,
            usePool: body.usePool !== false,
            signal,
            onProgress: progress,
            admit: (coldStart) => {
              progress('waiting for a start slot');
              return server.admission.run(coldStart, { signal, onQueued: (ahead) => stream?.send('queued', { ahead }) });
            },
          });
          if (started.fromPool) void runtime.pool.claimed(target).catch(() => undefined);
          server.log.info(`session ${started.session.id} started (${started.fromPool ? 'warm pool' : 'cold'}, ${Math.round(started.durationMs)} ms)`);
          if (runtime.config.poolSize > 0) {
            void runtime.pool
              .demand({ ...target, size: runtime.config.poolSize, idleTimeoutMs: runtime.config.poolIdleTimeoutMs })
              .catch((error: unknown) => server.log.error(`warm pool refill: ${describeError(error)}`));
          }
          const result = startedBody(started);
          if (!stream) return { json: result };
          stream.send('result', result);
          stream.end();
          return 'written' as const;
        } catch (error) {
          const failed = NexoraError.is(error) && !['aborted', 'invalid-argument', 'unsafe-workspace'].includes(error.code)
            ? new NexoraError(error.code, `The session start failed while ${step}: ${error.message}`, { cause: error })
            : error;
          if (!NexoraError.is(error) || error.code !== 'aborted') server.log.error(`session start failed while ${step}: ${describeError(error)}`);
          if (!stream) throw failed;
          stream.send('error', errorPayload(failed));
          stream.end();
          return 'written' as const;
        }
      },
    }),
    route({
      method: 'GET',
      path: '/v1/sessions',
      summary: 'List sessions (warm-pool members excluded), newest first, with their container state.',
      query: listSessionsQuery,
      handler: async ({ query }) => {
        const runtime = await server.sessions();
        const summaries = await runtime.manager.list({ all: query.all === '1' });
        return { json: { sessions: summaries.map(({ session, container, keptUntil }) => ({ ...session, containerState: container?.state ?? null, keptUntil, ...(container?.node ? { node: container.node } : {}) })) } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/gc',
      summary: 'Reconcile: remove orphan containers, finish interrupted starts and stops, release leaked ports.',
      body: gcBody,
      handler: async ({ body }) => {
        const runtime = await server.sessions();
        return { json: await runtime.manager.reconcile({ onStopped: body.restartStopped ? 'restart' : 'keep' }) };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/sessions/:id',
      summary: 'One session: its record, its workstation, where to connect (the VNC password only when asked).',
      params: sessionIdParams,
      query: sessionInfoQuery,
      handler: async ({ params, query }) => {
        const runtime = await server.sessions();
        const sessionId = parseSessionId(params.id);
        const session = await runtime.manager.sessions.get(sessionId);
        const info: ContainerInfo | undefined = await runtime.manager.getContainer(sessionId);
        const password = session.status === 'active' ? await runtime.manager.vncPassword(sessionId) : undefined;
        const host = runtime.manager.backend.endpointHost;
        const devtools = await server.servedDevtools(sessionId);
        return {
          json: {
            session,
            container: info ?? null,
            vnc: info ? `${info.vncHost ?? host}:${info.vncPort}` : null,
            devtools: devtools ? devtools.httpUrl : null,
            vncPasswordMasked: password === undefined ? null : maskPassword(password),
            ...(query.showPassword === '1' && password ? { vncPassword: password } : {}),
          },
        };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/stop',
      summary:
        "End a session: remove its workstation and release its ports. `git` is the final check of the workspace's git metadata (null without a baseline): what was moved aside because git on the host would have run it (`neutralised`), and what else changed.",
      params: sessionIdParams,
      body: stopSessionBody,
      handler: async ({ params, body }) => {
        const runtime = await server.sessions();
        const sessionId = parseSessionId(params.id);
        server.closeChannels(sessionId);
        const stopped = await runtime.manager.stopContainer(sessionId, body.reason ? { reason: body.reason } : {});
        return { json: { session: await runtime.manager.sessions.get(sessionId), git: stopped.git ?? null } };
      },
    }),
    route({
      method: 'DELETE',
      path: '/v1/sessions/:id',
      summary: 'Stop a session if it runs, then delete its record and history.',
      params: sessionIdParams,
      handler: async ({ params }) => {
        const runtime = await server.sessions();
        const sessionId = parseSessionId(params.id);
        server.closeChannels(sessionId);
        await runtime.manager.remove(sessionId);
        return { json: { removed: sessionId } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/resume',
      summary: 'Reattach to a session, restarting its stopped workstation (same workspace, same ports).',
      params: sessionIdParams,
      handler: async ({ params, signal }) => {
        const runtime = await server.sessions();
        const sessionId = parseSessionId(params.id);
        return { json: startedBody(await runtime.manager.resume(sessionId, { signal })) };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/devtools',
      summary:
        "Serve the session's Chromium DevTools on 127.0.0.1 behind a token (Chromium starts if needed); the URLs carry the token. With Accept: text/event-stream the answer is a `ready` event and the DevTools are served only as long as that connection stays open (a client that dies leaves nothing served); otherwise until DELETE or the session's end.",
      params: sessionIdParams,
      streams: true,
      handler: async ({ params, signal, response, wantsStream }) => {
        const sessionId = parseSessionId(params.id);
        const runtime = await server.sessions();
        const session = await runtime.manager.sessions.get(sessionId);
        if (session.status !== 'active') throw new NexoraError('session-invalid-transition', `Session ${sessionId} is ${session.status}: DevTools need an active session (\`nexora session resume ${sessionId}\`).`);
        const proxy = await server.openDevtools(sessionId);
        const served = { url: proxy.httpUrl, port: proxy.port, version: `${proxy.httpUrl}/json/version` };
        if (!wantsStream) return { json: served };
        const stream = openEventStream(response);
        stream.send('ready', served);
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        server.closeDevtools(sessionId);
        stream.end();
        return 'written';
      },
    }),
    route({
      method: 'DELETE',
      path: '/v1/sessions/:id/devtools',
      summary: "Stop serving the session's DevTools (their token stops working).",
      params: sessionIdParams,
      handler: ({ params }) => ({ json: { closed: server.closeDevtools(parseSessionId(params.id)) } }),
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/export',
      summary: "Write a session's transcript (md or json) and its screenshots into a folder on this host.",
      params: sessionIdParams,
      body: exportBody,
      handler: async ({ params, body }) => {
        const { exportTranscript } = await import('../jobs/export-transcript.js');
        return { json: await exportTranscript({ sessionId: params.id, format: body.format, outDir: body.outDir, db: server.db }) };
      },
    }),
  ];
}
