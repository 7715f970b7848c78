import { executeInput, keyboardInput, keyboardWait, mouseInput } from '../agent/tool-schemas.js';
import { controlBody, eventsQuery, screenQuery, sessionIdParams, terminalQuery } from '../client/api-schemas.js';
import { parseSessionId } from '../store/index.js';
import { route, type ApiRoute } from './api-route.js';
import type { NexoraServer } from './nexora-server.js';

/**
 * A session's tools through the API, over the session's shared channels: the same inputs
 * (and zod schemas) the model's tool calls have.
 */
export function toolRoutes(server: NexoraServer): ApiRoute[] {
  const tools = async (id: string) => (await server.live.get(parseSessionId(id))).tools;
  return [
    route({
      method: 'GET',
      path: '/v1/sessions/:id/screen',
      summary: 'The display: terminal text, size, cursor, what changed, and a PNG (base64 in JSON, or the bytes with Accept: image/png).',
      params: sessionIdParams,
      query: screenQuery,
      produces: 'application/json',
      handler: async ({ params, query, request, signal }) => {
        const screen = await (await tools(params.id)).screen({ image: query.image !== '0', ocr: query.ocr === '1', ...(query.crop ? { crop: query.crop } : {}), signal });
        if ((request.headers.accept ?? '').includes('image/png') && screen.png) return { contentType: 'image/png', bytes: screen.png };
        const { png, ...rest } = screen;
        return { json: { ...rest, png: png ? png.toString('base64') : null } };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/sessions/:id/terminal',
      summary: "The exact text of the terminal: the whole tmux window with its status line, or (windowOnly=1) the active window's panes only.",
      params: sessionIdParams,
      query: terminalQuery,
      handler: async ({ params, query }) => ({ json: { text: await (await tools(params.id)).terminalText({ windowOnly: query.windowOnly === '1' }) } }),
    }),
    route({
      method: 'GET',
      path: '/v1/sessions/:id/prompt-line',
      summary: "The terminal's cursor line (wrapped rows joined), the lines above it and the foreground program: what an Enter would submit. Read-only.",
      params: sessionIdParams,
      handler: async ({ params, signal }) => ({ json: await (await tools(params.id)).promptLine({ signal }) }),
    }),
    route({
      method: 'GET',
      path: '/v1/sessions/:id/windows',
      summary: "The display's top-level windows in screenshot pixels (title, geometry, focus). Read-only.",
      params: sessionIdParams,
      handler: async ({ params, signal }) => ({ json: { windows: await (await tools(params.id)).displayWindows({ signal }) } }),
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/keyboard',
      summary: 'Type text and press keys, then wait until the screen settles (or a pattern appears).',
      params: sessionIdParams,
      body: keyboardInput,
      handler: async ({ params, body, signal }) => {
        const result = await (await tools(params.id)).keyboard({
          ...(body.text !== undefined ? { text: body.text } : {}),
          ...(body.keys !== undefined ? { keys: body.keys } : {}),
          wait: keyboardWait(body),
          signal,
        });
        return { json: result };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/mouse',
      summary: 'Move, click, drag or scroll the mouse (pixel coordinates).',
      params: sessionIdParams,
      body: mouseInput,
      handler: async ({ params, body, signal }) => ({ json: await (await tools(params.id)).mouse({ ...body, signal }) }),
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/execute',
      summary: 'Run a command on the side channel: stdout, stderr, exit code, duration.',
      params: sessionIdParams,
      body: executeInput,
      handler: async ({ params, body, signal }) => {
        const result = await (await tools(params.id)).execute(body.command, {
          ...(body.cwd !== undefined ? { cwd: body.cwd } : {}),
          timeoutMs: body.timeoutMs ?? 60_000,
          signal,
        });
        return { json: result };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/sessions/:id/events',
      summary: "A session's recorded events (its transcript), oldest first, after an id.",
      params: sessionIdParams,
      query: eventsQuery,
      handler: async ({ params, query }) => {
        const runtime = await server.sessions();
        const events = await runtime.manager.events.list(parseSessionId(params.id), { afterId: query.after ?? 0, limit: query.limit ?? 500 });
        return { json: { events } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/sessions/:id/control',
      summary:
        "Take control of the display for a person, or hand it back. While a person holds it, every other door's keyboard, mouse, execute and browser actions (agent runs, the API, the SDK, MCP) wait up to their own timeout, then fail with control-held.",
      params: sessionIdParams,
      body: controlBody,
      handler: async ({ params, body }) => {
        const runtime = await server.sessions();
        const sessionId = parseSessionId(params.id);
        await runtime.manager.sessions.get(sessionId);
        const gate = server.live.session(sessionId).gate;
        // The gate changes first, in this turn: the answer means no other input gets in.
        const changed = body.action === 'take' ? gate.take('a person through the API') : gate.handBack();
        if (changed) {
          if (body.action === 'take') await runtime.manager.events.record({ sessionId, kind: 'control-take', payload: { by: 'person' } });
          else await runtime.manager.events.record({ sessionId, kind: 'control-return', payload: { to: 'agent' } });
        }
        return { json: { holder: gate.holder } };
      },
    }),
  ];
}
