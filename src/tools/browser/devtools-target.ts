/**
 * What the host takes from a DevTools answer that came out of a workstation. Anything a process
 * there serves on the DevTools port can claim to be Chromium (a forged `chromium.pid` makes the
 * start script report "running"), so an answer's URLs name no host the host would dial: only a
 * validated target path survives, and every connection goes through Nexora's own proxy.
 */

/** `/devtools/browser/<id>` or `/devtools/page/<id>`: the only paths the proxy forwards. */
const TARGET_PATH = /^\/devtools\/(?:browser|page)\/[A-Za-z0-9-]{1,128}$/;

/** Fields of `/json/*` answers that hold an address a client would follow. */
const ADDRESS_FIELDS = ['devtoolsFrontendUrl', 'devtoolsFrontendUrlCompat', 'faviconUrl'] as const;

/** Whether a path is one the proxy forwards as a WebSocket target. */
export function isDevtoolsTargetPath(path: string): boolean {
  return TARGET_PATH.test(path);
}

/**
 * The target path of a `webSocketDebuggerUrl` (`ws://…/devtools/browser/<id>`), or undefined
 * when it is not one. Its host, port, credentials, query and fragment are ignored: they came
 * from the workstation.
 */
export function devtoolsTargetPath(webSocketUrl: unknown): string | undefined {
  if (typeof webSocketUrl !== 'string' || webSocketUrl.length > 2048) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(webSocketUrl);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return undefined;
  return TARGET_PATH.test(parsed.pathname) ? parsed.pathname : undefined;
}

/**
 * A `/json/version` or `/json/list` answer with every address rebuilt or removed: a
 * `webSocketDebuggerUrl` becomes `toProxyUrl(path)` when its path is a valid target and is
 * dropped otherwise; frontend and favicon URLs are dropped. Other JSON (`/json/protocol`) and
 * what does not parse pass unchanged: they hold nothing a client dials.
 */
export function rewriteDevtoolsAnswer(body: string, toProxyUrl: (targetPath: string) => string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  const targets = Array.isArray(parsed) ? parsed : [parsed];
  let touched = false;
  for (const target of targets) {
    if (typeof target !== 'object' || target === null) continue;
    const record = target as Record<string, unknown>;
    if ('webSocketDebuggerUrl' in record) {
      touched = true;
      const path = devtoolsTargetPath(record.webSocketDebuggerUrl);
      if (path) record.webSocketDebuggerUrl = toProxyUrl(path);
      else delete record.webSocketDebuggerUrl;
    }
    for (const field of ADDRESS_FIELDS) {
      if (field in record) {
        touched = true;
        delete record[field];
      }
    }
  }
  return touched ? JSON.stringify(parsed) : body;
}
