import { NexoraError } from '../errors.js';
import type { SessionId } from '../store/index.js';
import type { ConnectedTools } from '../tools/connect-tools.js';

export interface ToolChannelsOptions {
  open: (sessionId: SessionId) => Promise<ConnectedTools>;
  /** Channels nobody has asked for this long are closed (default 5 min); the next use reopens them. */
  idleMs?: number;
  /** Whether something holds a session's channels beyond one request (an agent run): never released. */
  inUse?: (sessionId: SessionId) => boolean;
}

/** What the open channels hold in the server, for `nexora server status`. */
export interface ChannelMemory {
  /** Sessions with open channels. */
  sessions: number;
  /** Their framebuffer mirrors (4 bytes a pixel), the largest buffer a channel keeps. */
  framebufferBytes: number;
}

/**
 * Each active session's tool channels (one RFB connection, the tmux control client, the
 * command server), opened on first use and shared by every caller after that. A channel
 * whose VNC connection closed is opened again on the next use. An idle session's channels are
 * closed by `releaseIdle`, so its framebuffer mirror (4 MiB at 1280×800) and socket buffers
 * are not held in the server while nobody looks.
 */
export class ToolChannels {
  private readonly open: (sessionId: SessionId) => Promise<ConnectedTools>;
  private readonly idleMs: number;
  private readonly inUse: (sessionId: SessionId) => boolean;
  private readonly channels = new Map<SessionId, Promise<ConnectedTools>>();
  private readonly opened = new Map<SessionId, ConnectedTools>();
  private readonly lastUsed = new Map<SessionId, number>();

  constructor(options: ToolChannelsOptions) {
    this.open = options.open;
    this.idleMs = options.idleMs ?? 300_000;
    this.inUse = options.inUse ?? (() => false);
  }

  async get(sessionId: SessionId): Promise<ConnectedTools> {
    this.lastUsed.set(sessionId, Date.now());
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
      this.lastUsed.set(sessionId, Date.now());
      pending.then(
        (connected) => {
          if (this.channels.get(sessionId) === pending) this.opened.set(sessionId, connected);
        },
        // A failed open is not cached: the next call tries again.
        () => {
          if (this.channels.get(sessionId) === pending) this.channels.delete(sessionId);
        },
      );
    }
    return pending;
  }

  /** Sessions with open channels. */
  sessions(): SessionId[] {
    return [...this.channels.keys()];
  }

  /**
   * Closes the channels of sessions nobody has asked for in `idleMs` and no run holds; returns
   * them. A request's use of a channel begins with `get`, so a session idle this long has no
   * request in flight unless one call outlasts the idle time.
   */
  releaseIdle(now = Date.now()): SessionId[] {
    const released: SessionId[] = [];
    for (const sessionId of this.opened.keys()) {
      if (now - (this.lastUsed.get(sessionId) ?? 0) < this.idleMs || this.inUse(sessionId)) continue;
      this.close(sessionId);
      released.push(sessionId);
    }
    return released;
  }

  memory(): ChannelMemory {
    let framebufferBytes = 0;
    for (const connected of this.opened.values()) framebufferBytes += connected.rfb.framebuffer.byteLength;
    return { sessions: this.channels.size, framebufferBytes };
  }

  close(sessionId: SessionId): void {
    const pending = this.channels.get(sessionId);
    this.channels.delete(sessionId);
    this.opened.delete(sessionId);
    this.lastUsed.delete(sessionId);
    void pending?.then((connected) => connected.close()).catch(() => undefined);
  }

  closeAll(): void {
    for (const sessionId of [...this.channels.keys()]) this.close(sessionId);
  }
}

/** `NEXORA_CHANNEL_IDLE_SECONDS`: how long an unused session keeps its tool channels (default 300). */
export function channelIdleMs(env: NodeJS.ProcessEnv): number {
  const text = env.NEXORA_CHANNEL_IDLE_SECONDS;
  if (text === undefined || text === '') return 300_000;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new NexoraError('invalid-config', `NEXORA_CHANNEL_IDLE_SECONDS is "${text}": it must be a whole number of seconds, at least 1 (default 300).`);
  }
  return seconds * 1000;
}
