import { continueConversationBody, conversationsQuery, modelsBody, sessionIdParams } from '../client/api-schemas.js';
import { sessionTotals } from '../agent/session-totals.js';
import { loadConfig } from '../config/load-config.js';
import { NexoraError } from '../errors.js';
import { ProviderRegistry } from '../providers/registry.js';
import { parseSessionId } from '../store/index.js';
import { encodePng } from '../tools/png-encode.js';
import { route, type ApiRoute } from './api-route.js';
import type { NexoraServer } from './nexora-server.js';

/** Conversations, models, screenshots and git reports: what an interactive client (the TUI) needs besides runs. */
export function conversationRoutes(server: NexoraServer): ApiRoute[] {
  return [
    route({
      method: 'GET',
      path: '/v1/conversations',
      summary: 'The conversations recorded in a workspace, newest first: the session that holds each, its model and first task.',
      query: conversationsQuery,
      handler: async ({ query }) => {
        const runtime = await server.sessions();
        const { listConversations } = await import('../jobs/conversation-wiring.js');
        const found = await listConversations({ sessions: runtime.manager.sessions, events: runtime.manager.events, workspace: query.workspace });
        return { json: { conversations: found } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/conversations/:id/continue',
      summary: "Carry a conversation on: its workstation resumed when its session is active, else a new one on the same workspace. The next run with resume set to the returned session continues it.",
      params: sessionIdParams,
      body: continueConversationBody,
      handler: async ({ params, body }) => {
        const runtime = await server.sessions();
        const { continueConversation } = await import('../jobs/conversation-wiring.js');
        const { agentLimits } = await import('../jobs/agent-wiring.js');
        const from = parseSessionId(params.id);
        const session = await runtime.manager.sessions.get(from);
        const { config } = await loadConfig({ ...(session.workspaceDir ? { workspace: session.workspaceDir } : {}) }).catch(() => loadConfig());
        const model = body.model ?? (session.model !== 'none' ? session.model : undefined);
        const continued = await continueConversation({
          manager: runtime.manager,
          events: runtime.manager.events,
          sessionId: from,
          ...(model ? { model, provider: model.split('/')[0] ?? 'none' } : {}),
          keepImages: agentLimits(config.agent).keepImages,
        });
        const { cost } = sessionTotals(continued.loaded.runEnds);
        return {
          json: {
            sessionId: continued.started.session.id,
            model: model ?? null,
            turns: continued.history.length,
            sameWorkstation: continued.sameWorkstation,
            totals: { usd: cost.usd, inputTokens: cost.inputTokens, outputTokens: cost.outputTokens },
          },
        };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/models',
      summary: "The models usable with the stored keys and the client's environment (and, when asked, one resolved).",
      body: modelsBody,
      handler: async ({ body }) => {
        const env = server.clientEnv(body.env);
        const { config } = await loadConfig({ ...(body.workspace ? { workspace: body.workspace } : {}), env });
        const registry = new ProviderRegistry({ providers: config.providers, models: config.models, keys: server.keys, env });
        const models = (await registry.availableModels()).map((model) => model.ref);
        if (body.model !== undefined) await registry.resolve(body.model);
        return { json: { models, ...(body.model !== undefined ? { resolved: body.model } : {}) } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/screenshots',
      summary: "Save the display's PNG now in the session's screenshot archive (recorded for the transcript); answers with its path.",
      params: sessionIdParams,
      handler: async ({ params }) => {
        const sessionId = parseSessionId(params.id);
        const runtime = await server.sessions();
        const { rfb } = await server.live.get(sessionId);
        const { sessionScreenshotArchive } = await import('../jobs/agent-wiring.js');
        const saved = await sessionScreenshotArchive(runtime.manager.events, sessionId).save(encodePng(rfb.framebuffer, rfb.width, rfb.height), { width: rfb.width, height: rfb.height }, { force: true });
        return { json: { path: saved.path } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/sessions/:id/git-changes',
      summary: "What the session changed in the workspace's git metadata outside objects, refs, the index and logs (hooks, config): a warning for the user.",
      params: sessionIdParams,
      handler: async ({ params }) => {
        const runtime = await server.sessions();
        const sessionId = parseSessionId(params.id);
        const report = await runtime.manager.gitChanges(sessionId);
        if (!report) throw new NexoraError('not-found', `Session ${sessionId} has no git baseline (its workspace is not a git repository, or it started before baselines were kept).`);
        return { json: report };
      },
    }),
  ];
}
