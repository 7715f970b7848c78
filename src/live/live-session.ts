import type { SessionId } from '../store/index.js';
import type { ConnectedTools } from '../tools/connect-tools.js';
import { InputGate } from './input-gate.js';

/** How long a browser action waits at a held gate (its calls carry no timeout of their own here). */
const browserGateWaitMs = 30_000;

export interface LiveSessionOptions {
  sessionId: SessionId;
  /** Opens the session's channels (one RFB connection, the tmux control client, the command server). */
  open: () => Promise<ConnectedTools>;
}

/**
 * One active session as the server holds it: its tool channels, opened on first use and shared
 * by every door after that, and its input gate, fastened onto those channels when they open —
 * so an agent run, an API or SDK call, an MCP client and the web view all reach the display
 * through the same gate, and a person's take-over holds every one of them at once.
 */
export class LiveSession {
  readonly sessionId: SessionId;
  readonly gate = new InputGate();
  private readonly open: () => Promise<ConnectedTools>;
  private channels: Promise<ConnectedTools> | undefined;
  private opened: ConnectedTools | undefined;
  /** When a door last asked for the channels (LiveSessions releases idle ones). */
  lastUsedAt = Date.now();

  constructor(options: LiveSessionOptions) {
    this.sessionId = options.sessionId;
    this.open = options.open;
  }

  /** The shared channels, opened again when their VNC connection closed. */
  async connected(): Promise<ConnectedTools> {
    this.lastUsedAt = Date.now();
    const existing = this.channels;
    if (existing) {
      const connected = await existing.catch(() => undefined);
      if (connected && connected.rfb.state !== 'closed') return connected;
      if (this.channels === existing) this.closeChannels();
    }
    if (!this.channels) {
      const pending = this.open().then((connected) => {
        connected.tools.holdInputAt((call) => this.gate.enter(call));
        connected.browser.holdActionsAt((signal) => this.gate.enter({ what: 'browser', timeoutMs: browserGateWaitMs, signal }));
        if (this.channels === pending) this.opened = connected;
        return connected;
      });
      this.channels = pending;
      // A failed open is not kept: the next call tries again.
      pending.catch(() => {
        if (this.channels === pending) this.channels = undefined;
      });
    }
    return this.channels;
  }

  /** Whether channels are open (or opening). */
  get hasChannels(): boolean {
    return this.channels !== undefined;
  }

  /** The channels once they are open. */
  get openChannels(): ConnectedTools | undefined {
    return this.opened;
  }

  /** Closes the channels; the next use opens new ones (the gate and who holds it stay). */
  closeChannels(): void {
    const pending = this.channels;
    this.channels = undefined;
    this.opened = undefined;
    void pending?.then((connected) => connected.close()).catch(() => undefined);
  }
}
