import type { SessionId } from '../store/index.js';
import type { ConnectedTools } from '../tools/connect-tools.js';

/**
 * Each active session's tool channels (one RFB connection, the tmux control client, the
 * command server), opened on first use and shared by every caller after that. A channel
 * whose VNC connection closed is opened again on the next use.
 */
export class ToolChannels {
  private readonly open: (sessionId: SessionId) => Promise<ConnectedTools>;
  private readonly channels = new Map<SessionId, Promise<ConnectedTools>>();

  constructor(options: { open: (sessionId: SessionId) => Promise<ConnectedTools> }) {
    this.open = options.open;
  }

  async get(sessionId: SessionId): Promise<ConnectedTools> {
    const existing = this.channels.get(sessionId);
    if (existing) {
      const connected = await existing.catch(() => undefined);
      if (connected && connected.rfb.state !== 'closed') return connected;
      if (this.channels.get(sessionId) === existing) this.close(sessionId);
    }
    let pending = this.channels.get(sessionId);
    if (!pending) {
      pending = this.open(sessionId);
      this.channels.set(sessionId, pending);
      // A failed open is not cached: the next call tries again.
      pending.catch(() => {
        if (this.channels.get(sessionId) === pending) this.channels.delete(sessionId);
      });
    }
    return pending;
  }

  /** Sessions with open channels. */
  sessions(): SessionId[] {
    return [...this.channels.keys()];
  }

  close(sessionId: SessionId): void {
    const pending = this.channels.get(sessionId);
    this.channels.delete(sessionId);
    void pending?.then((connected) => connected.close()).catch(() => undefined);
  }

  closeAll(): void {
    for (const sessionId of [...this.channels.keys()]) this.close(sessionId);
  }
}
