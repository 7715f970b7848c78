import { browserInputs, type BrowserToolName } from '../agent/browser-tool-schemas.js';
import { runBrowserTool } from '../agent/run-browser-tool.js';
import { sessionIdParams } from '../client/api-schemas.js';
import { parseSessionId } from '../store/index.js';
import { route, type ApiRoute } from './api-route.js';
import type { NexoraServer } from './nexora-server.js';

/** Longest text one browser call returns (a snapshot of a big page is cut head + tail). */
const maxOutputChars = 60_000;

/** `browser_navigate` → `/v1/sessions/:id/browser/navigate`. */
export function browserRoutePath(name: BrowserToolName): string {
  return `/v1/sessions/:id/browser/${name.slice('browser_'.length).replaceAll('_', '-')}`;
}

/**
 * The browser tools through the API, over the session's shared channels (one Chromium
 * connection per session, whoever calls): the same inputs and zod schemas the model's calls
 * have. A failure the caller can act on (a stale ref, a timeout) is `isError: true` with
 * text saying what to do, not an HTTP error.
 */
export function browserRoutes(server: NexoraServer): ApiRoute[] {
  return (Object.keys(browserInputs) as BrowserToolName[]).map((name) =>
    route({
      method: 'POST',
      path: browserRoutePath(name),
      summary: `The ${name} tool: text for the caller, isError, and a PNG (base64) when it took one.`,
      params: sessionIdParams,
      body: browserInputs[name],
      handler: async ({ params, body, signal }) => {
        const { tools } = await server.live.get(parseSessionId(params.id));
        const result = await runBrowserTool({ browser: tools.browser, name, input: body, wantImage: true, maxOutputChars, signal });
        return { json: { text: result.text, summary: result.summary, isError: result.isError, png: result.png ? result.png.toString('base64') : null } };
      },
    }),
  );
}
