import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ChannelMemory } from '../live/live-sessions.js';

/** The server process's memory, as `GET /v1/health` reports it and `nexora server status` prints it. */
export interface ServerMemory {
  rssBytes: number;
  /** RSS when the server had opened its store and began to listen: its floor with no session. */
  readyRssBytes: number;
  /** V8's heap in use and memory outside it held by JavaScript objects (buffers, WebAssembly). */
  heapUsedBytes: number;
  externalBytes: number;
  activeSessions: number;
  /** (RSS − ready RSS) / active sessions: what each session costs the server, everything counted. */
  perSessionBytes: number;
  channels: ChannelMemory;
}

/** Measures the process now; `activeSessions` comes from the store. */
export function serverMemory(options: { readyRssBytes: number; activeSessions: number; channels: ChannelMemory }): ServerMemory {
  const usage = process.memoryUsage();
  const grown = Math.max(0, usage.rss - options.readyRssBytes);
  return {
    rssBytes: usage.rss,
    readyRssBytes: options.readyRssBytes,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
    activeSessions: options.activeSessions,
    perSessionBytes: options.activeSessions > 0 ? Math.round(grown / options.activeSessions) : 0,
    channels: options.channels,
  };
}

/**
 * Keeps V8's young generation at its starting size in the server process. It grows to 16 MiB
 * semi-spaces (three of them) under bursts of small objects and stays there; the server's
 * large buffers (framebuffers, PNGs) live outside the V8 heap, so a small nursery costs it a
 * few more scavenges and saves 15–20 MiB of idle RSS (bench/server-memory.ts). Call first
 * thing in `nexora serve`, before the heap has grown.
 */
export function sizeServerHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

let collect: (() => void) | undefined;

/**
 * A full garbage collection, after idle channels were closed. Their framebuffers (4 MiB a
 * session) live outside the V8 heap, and V8 collects on heap growth, not on memory dropped: an
 * idle server would hold them until something else filled the heap. One collection of the
 * server's ~40 MiB heap takes tens of milliseconds, and runs only when channels were released.
 */
export function collectReleasedBuffers(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
