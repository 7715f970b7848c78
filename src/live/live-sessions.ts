import type { SessionId } from '../store/index.js';
import type { ConnectedTools } from '../tools/connect-tools.js';
import { LiveSession } from './live-session.js';

/**
 * The server's live sessions, one object per active session, made on first use. Every door
 * reaches a session's tools through here: `get` returns the shared, gated channels.
 */
export class LiveSessions {
  private readonly open: (sessionId: SessionId) => Promise<ConnectedTools>;
  private readonly live = new Map<SessionId, LiveSession>();

  constructor(options: { open: (sessionId: SessionId) => Promise<ConnectedTools> }) {
    this.open = options.open;
  }

  /** The session's live object (its gate exists before any channel opens). */
  session(sessionId: SessionId): LiveSession {
    let live = this.live.get(sessionId);
    if (!live) {
      live = new LiveSession({ sessionId, open: () => this.open(sessionId) });
      this.live.set(sessionId, live);
    }
    return live;
  }

  /** The session's shared channels, behind its gate. */
  get(sessionId: SessionId): Promise<ConnectedTools> {
    return this.session(sessionId).connected();
  }

  /** Sessions with a live object (channels open, or a gate someone used). */
  sessions(): SessionId[] {
    return [...this.live.keys()];
  }

  /** Closes a session's channels (a restarted workstation is a new container); its gate stays. */
  close(sessionId: SessionId): void {
    this.live.get(sessionId)?.closeChannels();
  }

  /** The session is over: its channels close and its live object goes. */
  end(sessionId: SessionId): void {
    this.close(sessionId);
    this.live.delete(sessionId);
  }

  closeAll(): void {
    for (const live of this.live.values()) live.closeChannels();
  }
}
