/**
 * Bounds on what an RFB server may make the client allocate or compute. The server is
 * untrusted: every size it sends is checked against these before anything is allocated.
 */
export interface RfbLimits {
  /** Largest framebuffer side in pixels. */
  maxSide: number;
  /** Largest framebuffer area in pixels (the mirror takes 4 bytes each). */
  maxFramebufferPixels: number;
  /** Largest desktop name in bytes. */
  maxNameBytes: number;
  /** Largest cut-text (clipboard) message in bytes. */
  maxCutTextBytes: number;
  /** Largest reason string (failed security) in bytes. */
  maxReasonBytes: number;
  /** Pixels one FramebufferUpdate may touch in total, across all its rectangles. */
  maxUpdatePixels: number;
  /** Bytes buffered from the socket before reading pauses. */
  maxBufferedBytes: number;
}

export const defaultRfbLimits: Readonly<RfbLimits> = {
  maxSide: 16_384,
  maxFramebufferPixels: 7680 * 4320,
  maxNameBytes: 4096,
  maxCutTextBytes: 1024 * 1024,
  maxReasonBytes: 4096,
  maxUpdatePixels: 4 * 7680 * 4320,
  // Per connection, and every session has one: 50 stalled readers at 16 MiB were 800 MiB.
  maxBufferedBytes: 1024 * 1024,
};
