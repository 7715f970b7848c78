import { NexoraError } from '../errors.js';
import type { SessionId } from '../store/index.js';
import type { ConnectedTools } from '../tools/connect-tools.js';
import { LiveSession } from './live-session.js';

export interface LiveSessionsOptions {
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
 * The server's live sessions, one object per active session, made on first use. Every door
 * reaches a session's tools through here: `get` returns the shared, gated channels. An idle
 * session's channels are closed by `releaseIdle`, so its framebuffer mirror (4 MiB at
 * 1280×800) and socket buffers are not held while nobody looks; its gate stays.
 */
export class LiveSessions {
  private readonly open: (sessionId: SessionId) => Promise<ConnectedTools>;
  private readonly idleMs: number;
  private readonly inUse: (sessionId: SessionId) => boolean;
  private readonly live = new Map<SessionId, LiveSession>();

  constructor(options: LiveSessionsOptions) {
    this.open = options.open;
    this.idleMs = options.idleMs ?? 300_000;
    this.inUse = options.inUse ?? (() => false);
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

  /**
   * Closes the channels of sessions nobody has asked for in `idleMs` and no run holds; returns
   * them. A request's use of a channel begins with `get`, so a session idle this long has no
   * request in flight unless one call outlasts the idle time.
   */
  releaseIdle(now = Date.now()): SessionId[] {
    const released: SessionId[] = [];
    for (const live of this.live.values()) {
      if (!live.openChannels || now - live.lastUsedAt < this.idleMs || this.inUse(live.sessionId)) continue;
      live.closeChannels();
      released.push(live.sessionId);
    }
    return released;
  }

  memory(): ChannelMemory {
    let sessions = 0;
    let framebufferBytes = 0;
    for (const live of this.live.values()) {
      if (!live.hasChannels) continue;
      sessions += 1;
      framebufferBytes += live.openChannels?.rfb.framebuffer.byteLength ?? 0;
    }
    return { sessions, framebufferBytes };
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
