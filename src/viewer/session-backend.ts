import { join } from 'node:path';
import type { SessionManager } from '../sessions/session-manager.js';
import { parseSessionId } from '../store/index.js';
import type { ViewerApprovals, ViewerBackend } from './viewer-server.js';

/** The web view's backend over a SessionManager: its sessions, their VNC endpoints and events. */
export function sessionViewerBackend(manager: SessionManager, options: { screenshotsRoot?: string; approvals?: ViewerApprovals } = {}): ViewerBackend {
  return {
    listSessions: async () =>
      (await manager.list({ all: true })).map(({ session }) => ({
        id: session.id,
        status: session.status,
        model: session.model,
        workspaceDir: session.workspaceDir,
        createdAt: session.createdAt.toISOString(),
      })),
    rfbEndpoint: async (sessionId) => (await manager.workstation(parseSessionId(sessionId))).rfb(),
    listEvents: (sessionId, { afterId, limit }) => manager.events.list(parseSessionId(sessionId), { afterId, limit }),
    recordEvent: async (sessionId, kind, payload) => {
      await manager.events.record({ sessionId: parseSessionId(sessionId), kind, payload });
    },
    ...(options.approvals ? { approvals: options.approvals } : {}),
    ...(options.screenshotsRoot !== undefined ? { screenshotsDir: (sessionId: string) => join(options.screenshotsRoot ?? '', parseSessionId(sessionId)) } : {}),
  };
}
