import { poolDrainBody, poolWarmBody, providerParams, setKeyBody, stopServerBody, viewQuery } from '../client/api-schemas.js';
import { NexoraError } from '../errors.js';
import { providerKeyJson } from '../secrets/index.js';
import { loadMigrations, migrateDatabase, migrationStatus, SessionStore } from '../store/index.js';
import { parseNumericUser } from '../workstation/workspace-owner.js';
import { route, type ApiRoute } from './api-route.js';
import type { NexoraServer } from './nexora-server.js';
import { serverMemory } from './server-memory.js';

/** Health, version, the pool, keys, the web view and stopping the server. */
export function adminRoutes(server: NexoraServer): ApiRoute[] {
  return [
    route({
      method: 'GET',
      path: '/v1/health',
      summary: 'The server: version, pid, store, admission queue, and whether Docker answered.',
      handler: async () => ({
        json: {
          ok: true,
          version: server.version,
          build: server.build,
          pid: process.pid,
          home: server.paths.home,
          store: { kind: server.db.kind, location: server.db.location, fingerprint: server.storeFingerprint },
          engine: server.engine,
          startedAt: server.startedAt.toISOString(),
          admission: server.admission.stats,
          tcp: server.tcpPort !== undefined ? { port: server.tcpPort } : null,
          memory: serverMemory({ readyRssBytes: server.readyRssBytes, activeSessions: await activeSessions(server), channels: server.live.memory() }),
        },
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/version',
      summary: "The server's version and build.",
      handler: () => ({ json: { version: server.version, build: server.build } }),
    }),
    route({
      method: 'POST',
      path: '/v1/server/stop',
      summary: 'Shut the server down (sessions keep running unless stopSessions is true).',
      body: stopServerBody,
      handler: ({ body, response }) => {
        // After the answer is out, so the client hears that the stop began.
        response.once('finish', () => void server.close({ stopSessions: body.stopSessions === true, reason: 'asked over the API' }));
        return { json: { stopping: true, pid: process.pid } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/pool',
      summary: 'The warm-pool members and the pools the server keeps full.',
      handler: async () => {
        const runtime = await server.sessions();
        return { json: { members: await runtime.manager.pool.status(), kept: runtime.pool.kept } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/store',
      summary: 'The store the server holds: its engine, location, and which schema migrations are applied or pending.',
      handler: async () => ({ json: await storeStatus(server) }),
    }),
    route({
      method: 'POST',
      path: '/v1/store/migrate',
      summary: 'Apply pending schema migrations (the server applies them when it opens the store, so usually none).',
      handler: async () => {
        const applied = await migrateDatabase(server.db);
        return { json: { ...(await storeStatus(server)), appliedNow: applied.map((migration) => ({ version: migration.version, name: migration.name })) } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/pool/warm',
      summary: "Keep a workspace's pool at a size (the server refills it as sessions are claimed); answers when it is full.",
      body: poolWarmBody,
      handler: async ({ body }) => {
        const workspaceDir = server.workspace(body.workspaceDir);
        const runtime = await server.sessions();
        const size = body.size ?? (runtime.config.poolSize || 1);
        const added = await runtime.pool.demand({
          workspaceDir,
          size,
          idleTimeoutMs: body.idleTimeoutMs ?? runtime.config.poolIdleTimeoutMs,
          ...(body.user ? { user: parseNumericUser(body.user) } : {}),
          ...(body.startChromium ? { startChromium: true } : {}),
        });
        return { json: { added, size, workspaceDir } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/pool/drain',
      summary: 'Remove pooled workstations (of one workspace, or all) and stop keeping those pools.',
      body: poolDrainBody,
      handler: async ({ body }) => {
        const runtime = await server.sessions();
        runtime.pool.forget(body.workspaceDir ? { workspaceDir: body.workspaceDir } : {});
        const drained = await runtime.manager.pool.drain(body.workspaceDir ? { workspaceDir: body.workspaceDir } : {});
        return { json: { drained } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/keys',
      summary: 'Stored provider keys: provider, last four characters, dates (never the key).',
      handler: async () => ({ json: { keys: (await server.keys.list()).map(providerKeyJson) } }),
    }),
    route({
      method: 'PUT',
      path: '/v1/keys/:provider',
      summary: "Store a provider's API key, encrypted with the master key.",
      params: providerParams,
      body: setKeyBody,
      handler: async ({ params, body }) => {
        const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
        if (expiresAt && expiresAt.getTime() <= Date.now()) throw Object.assign(new NexoraError('invalid-argument', `Invalid field "expiresAt": ${expiresAt.toISOString()} is in the past.`), { field: 'expiresAt' });
        return { json: providerKeyJson(await server.keys.set(params.provider, body.apiKey, { expiresAt })) };
      },
    }),
    route({
      method: 'DELETE',
      path: '/v1/keys/:provider',
      summary: "Delete a provider's stored key.",
      params: providerParams,
      handler: async ({ params }) => {
        if (!(await server.keys.remove(params.provider))) {
          throw new NexoraError('secret-not-found', `No key is stored for ${params.provider}: \`nexora keys list\` shows the stored ones.`);
        }
        return { json: { removed: params.provider } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/keys/rotate',
      summary: 'Re-encrypt every stored key and VNC password under a new master key.',
      handler: async () => ({ json: await server.keys.rotate() }),
    }),
    route({
      method: 'GET',
      path: '/v1/view',
      summary: "The web view's address (served by this server on 127.0.0.1, token in the address).",
      query: viewQuery,
      handler: async ({ query }) => {
        const viewer = await server.webView();
        return { json: { url: query.session ? viewer.sessionUrl(query.session) : viewer.url } };
      },
    }),
  ];
}

async function storeStatus(server: NexoraServer): Promise<Record<string, unknown>> {
  const status = await migrationStatus(server.db, loadMigrations());
  return {
    engine: server.db.kind,
    location: server.db.location,
    applied: status.applied.map((migration) => ({ version: migration.version, name: migration.name, appliedAt: migration.appliedAt.toISOString() })),
    pending: status.pending.map((migration) => ({ version: migration.version, name: migration.name })),
  };
}

/** Active sessions in the store, read without the session runtime (health answers before Docker does). */
async function activeSessions(server: NexoraServer): Promise<number> {
  const active = await new SessionStore(server.db).list({ statuses: ['active'] }).catch(() => []);
  return active.length;
}
