import { route, type ApiRoute } from './api-route.js';
import type { NexoraServer } from './nexora-server.js';
import { openApiDocument } from './openapi.js';
import { adminRoutes } from './routes-admin.js';
import { browserRoutes } from './routes-browser.js';
import { conversationRoutes } from './routes-conversations.js';
import { jobRoutes } from './routes-jobs.js';
import { mcpRoutes } from './routes-mcp.js';
import { runRoutes } from './routes-runs.js';
import { sessionRoutes } from './routes-sessions.js';
import { toolRoutes } from './routes-tools.js';

/** Every route of the API, the OpenAPI document's included. */
export function apiRoutes(server: NexoraServer): ApiRoute[] {
  const routes = [
    ...adminRoutes(server),
    ...sessionRoutes(server),
    ...toolRoutes(server),
    ...browserRoutes(server),
    ...runRoutes(server),
    ...jobRoutes(server),
    ...conversationRoutes(server),
    ...mcpRoutes(server),
  ];
  let document: unknown;
  routes.push(
    route({
      method: 'GET',
      path: '/v1/openapi.json',
      summary: 'This API as an OpenAPI 3.1 document, generated from the zod schemas that validate its inputs.',
      handler: () => ({ json: (document ??= openApiDocument(routes)) }),
    }),
  );
  return routes;
}
