/**
 * The display stack inside a real workstation (same image, same hardening), both stacks in
 * one run: TigerVNC's Xvnc (the default) against Xvfb + x11vnc (NEXORA_DISPLAY_SERVER=xvfb):
 * start → READY, connect → authenticated handshake, keystroke → change in the mirror, and the
 * container's idle CPU with the RFB connection open. Then, on Xvnc, RFB key events beside the
 * peer method (xdotool through the Engine API's exec).
 *   npx tsx bench/rfb-latency.ts
 * Writes its section of BENCHMARKS.md. BENCH_RUNS sets the number of keystrokes (default 60).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { RfbClient, keyEventsForInput } from '../src/rfb/index.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { findWorkstationImage, startRfbWorkstation, type RfbWorkstation } from './rfb-workstation.js';
import { ms, summarise, type Sample } from './lib/stats.js';
import { writeSection } from './lib/report.js';

const runs = Number(process.env.BENCH_RUNS ?? 60);
/** How long the idle CPU is sampled with the RFB connection open (cgroup CPU usage, as docker stats reads it). */
const idleCpuMs = 10_000;
const loadAtStart = loadavg();
const docker = createDockerClient();
const image = await findWorkstationImage(docker);
if (!image) {
  console.error('No nexora-workstation image: build it with `nexora image build` first.');
  process.exit(1);
}

/** Types one character by `send`, then waits until the mirror shows a change. */
async function keystroke(rfb: RfbClient, index: number, send: (character: string) => Promise<void> | void): Promise<{ write: number; visible: number }> {
  // ctrl+u every 30 keys keeps the line short, so every keystroke changes a few cells.
  const character = index % 30 === 29 ? '\x15' : String.fromCharCode(97 + (index % 26));
  const sent = performance.now();
  await send(character);
  const write = performance.now() - sent;
  const result = await rfb.waitForUpdate({ after: sent, timeoutMs: 3000 });
  if (result.outcome !== 'updated') throw new Error('a keystroke produced no framebuffer update within 3 s');
  await rfb.waitForQuiet({ quietMs: 40, timeoutMs: 2000 });
  return { write, visible: result.lastUpdateAt - sent };
}

async function measureKeys(rfb: RfbClient, send: (character: string) => Promise<void> | void): Promise<{ write: Sample; visible: Sample; within12: number }> {
  const writes: number[] = [];
  const visibles: number[] = [];
  for (let index = 0; index < runs + 5; index++) {
    const { write, visible } = await keystroke(rfb, index, send);
    if (index >= 5) {
      writes.push(write);
      visibles.push(visible);
    }
  }
  return { write: summarise(writes), visible: summarise(visibles), within12: visibles.filter((value) => value <= 12).length };
}

/** The container's CPU use over `periodMs`, in % of one core (cgroup usage, as docker stats). */
async function idleCpu(containerId: string, periodMs: number): Promise<number> {
  const container = docker.getContainer(containerId);
  const usage = async (): Promise<number> => ((await container.stats({ stream: false }))).cpu_stats.cpu_usage.total_usage;
  const before = await usage();
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, periodMs));
  const after = await usage();
  return ((after - before) / 1e6 / (performance.now() - began)) * 100;
}

interface StackResult {
  name: string;
  start: number;
  connect: number;
  keys: { write: Sample; visible: Sample; within12: number };
  idleCpuPercent: number;
}

async function measureStack(displayServer: 'xvnc' | 'xvfb', label: string): Promise<StackResult> {
  const station = await startRfbWorkstation({ image: image!, namePrefix: `nexora-bench-rfb-${displayServer}`, displayServer });
  let client: RfbClient | undefined;
  try {
    const connectStarted = performance.now();
    client = await RfbClient.connect({ host: '127.0.0.1', port: station.vncPort, password: station.vncPassword });
    const connect = performance.now() - connectStarted;
    await client.waitForUpdate({ after: 0, timeoutMs: 5000 });
    await client.waitForQuiet({ quietMs: 300, timeoutMs: 10_000 });
    const rfb = client;
    const keys = await measureKeys(rfb, (character) => rfb.typeKeys(keyEventsForInput({ text: character })));
    await rfb.waitForQuiet({ quietMs: 500, timeoutMs: 5000 });
    const idleCpuPercent = await idleCpu(station.containerId, idleCpuMs);
    return { name: label, start: station.startToReadyMs, connect, keys, idleCpuPercent };
  } finally {
    client?.close();
    await station.dispose();
  }
}

// Both stacks, alternating twice, so neither gets the quieter half of the run.
const stacks: StackResult[] = [];
for (let round = 0; round < 2; round++) {
  stacks.push(await measureStack('xvfb', 'Xvfb + x11vnc'));
  stacks.push(await measureStack('xvnc', 'Xvnc (TigerVNC)'));
}
const merged = (name: string): { start: number[]; connect: number[]; visible: number[]; visible95: number[]; cpu: number[]; within12: number } => {
  const own = stacks.filter((stack) => stack.name === name);
  return {
    start: own.map((stack) => stack.start),
    connect: own.map((stack) => stack.connect),
    visible: own.map((stack) => stack.keys.visible.p50),
    visible95: own.map((stack) => stack.keys.visible.p95),
    cpu: own.map((stack) => stack.idleCpuPercent),
    within12: own.reduce((sum, stack) => sum + stack.keys.within12, 0) / own.length,
  };
};
const peerStack = merged('Xvfb + x11vnc');
const ourStack = merged('Xvnc (TigerVNC)');
const median = (values: number[]): number => summarise(values).p50;
const stackTable = [
  '| in the workstation (median of 2 containers each) | Xvnc (default) | Xvfb + x11vnc (peer) | peer / Xvnc | target |',
  '| --- | --- | --- | --- | --- |',
  `| keystroke → change in the mirror, p50 | ${ms(median(ourStack.visible))} | ${ms(median(peerStack.visible))} | ${(median(peerStack.visible) / median(ourStack.visible)).toFixed(1)}× | ≤ 12 ms |`,
  `| keystroke → change in the mirror, p95 | ${ms(median(ourStack.visible95))} | ${ms(median(peerStack.visible95))} | ${(median(peerStack.visible95) / median(ourStack.visible95)).toFixed(1)}× | — |`,
  `| keystrokes visible within 12 ms | ${((100 * ourStack.within12) / runs).toFixed(0)} % | ${((100 * peerStack.within12) / runs).toFixed(0)} % | — | — |`,
  `| container start → READY (password delivered through exec stdin) | ${ms(median(ourStack.start))} | ${ms(median(peerStack.start))} | ${(median(peerStack.start) / median(ourStack.start)).toFixed(1)}× | — |`,
  `| connect → authenticated handshake | ${ms(median(ourStack.connect))} | ${ms(median(peerStack.connect))} | ${(median(peerStack.connect) / median(ourStack.connect)).toFixed(0)}× | — |`,
  `| idle CPU of the container, RFB connection open (${idleCpuMs / 1000} s) | ${median(ourStack.cpu).toFixed(2)} % | ${median(peerStack.cpu).toFixed(2)} % | — | ≈ 0 |`,
].join('\n');

const station: RfbWorkstation = await startRfbWorkstation({ image, namePrefix: 'nexora-bench-rfb' });
let client: RfbClient | undefined;
try {
  const connectStarted = performance.now();
  client = await RfbClient.connect({ host: '127.0.0.1', port: station.vncPort, password: station.vncPassword });
  const connected = performance.now() - connectStarted;
  await client.waitForUpdate({ after: 0, timeoutMs: 5000 });
  const firstFrame = client.lastUpdateAt - connectStarted;
  await client.waitForQuiet({ quietMs: 300, timeoutMs: 10_000 });
  const rfb = client;

  /** Types one character by `send`, then waits until the mirror shows a change. */
  const statsBefore = rfb.stats;
  const ours = await measureKeys(rfb, (character) => rfb.typeKeys(keyEventsForInput({ text: character })));
  const statsAfter = rfb.stats;
  const applyPerUpdate = (statsAfter.applyMs - statsBefore.applyMs) / Math.max(1, statsAfter.updates - statsBefore.updates);
  const peer = await measureKeys(rfb, async (character) => {
    await station.exec(character === '\x15' ? ['xdotool', 'key', 'ctrl+u'] : ['xdotool', 'type', character]);
  });
  // Key write alone, many times, without waiting for the screen (events pairs for "hello").
  const helloWrites: number[] = [];
  const hello = keyEventsForInput({ text: 'hello' });
  for (let index = 0; index < 200; index++) {
    const started = performance.now();
    rfb.typeKeys(hello);
    helloWrites.push(performance.now() - started);
    if (index % 20 === 19) rfb.typeKeys(keyEventsForInput({ text: '\x15' }));
  }
  const helloWrite = summarise(helloWrites);
  await rfb.waitForQuiet({ quietMs: 200, timeoutMs: 5000 });

  const encodings = Object.entries(rfb.stats.rectsByEncoding)
    .map(([encoding, count]) => `${({ 0: 'Raw', 1: 'CopyRect', 5: 'Hextile', 6: 'Zlib', 16: 'ZRLE' } as Record<string, string>)[encoding] ?? encoding} ${count}`)
    .join(', ');
  const table = [
    '| operation | ours (RFB) p50 / p95 | peer: `docker exec … xdotool` p50 / p95 | target |',
    '| --- | --- | --- | --- |',
    `| one keystroke written (down+up) | ${ms(ours.write.p50)} / ${ms(ours.write.p95)} | ${ms(peer.write.p50)} / ${ms(peer.write.p95)} | ≪ 1 ms |`,
    `| \`keyboard("hello")\` written (10 events, one write) | ${ms(helloWrite.p50)} / ${ms(helloWrite.p95)} | — | ≥ 100× faster than the peer |`,
    `| keystroke → change in the mirror | ${ms(ours.visible.p50)} / ${ms(ours.visible.p95)} | ${ms(peer.visible.p50)} / ${ms(peer.visible.p95)} | ≤ 12 ms |`,
  ].join('\n');
  const keystrokeP50 = median(ourStack.visible);
  const idleXvnc = median(ourStack.cpu);
  const verdict = [
    `Targets: keystroke → visible ≤ 12 ms p50 ${keystrokeP50 <= 12 ? `met (${ms(keystrokeP50)})` : `not met in this run (${ms(keystrokeP50)}; ${((100 * ourStack.within12) / runs).toFixed(0)} % of keystrokes were within 12 ms)`}, ${(median(peerStack.visible) / keystrokeP50).toFixed(1)}× faster than the peer;`,
    `idle CPU with the RFB connection open ≈ 0 ${idleXvnc < 0.5 ? 'met' : 'not met'} (${idleXvnc.toFixed(2)} % of a core against x11vnc's ${median(peerStack.cpu).toFixed(2)} %, which would cost a core per ${Math.max(1, Math.round(100 / Math.max(median(peerStack.cpu), 0.01)))} idle sessions).`,
    ...(keystrokeP50 > 12
      ? [
          `On an idle host Xvnc answered in 10.6 ms p50 (DESIGN.md, 2026-11-28); with the load average at ${loadavg()[0]?.toFixed(1) ?? '?'} on 2 cores the likely cause is the scheduler: the X server, xterm and tmux each wait for a core between the key event and the drawing (the client's own share is below).`,
        ]
      : []),
  ].join(' ');
  const notes = [
    verdict,
    `Load average at the start of the run ${loadAtStart.map((value) => value.toFixed(1)).join(' / ')}, at the end ${loadavg().map((value) => value.toFixed(1)).join(' / ')} (1/5/15 min) on a 2-core machine shared with other builds and tests; latencies under load measure the scheduler as much as the stack, the idle CPU does not.`,
    `${runs} keystrokes each way into the workstation's xterm/tmux at 1280×800; connect + handshake ${ms(connected)}, first full frame after ${ms(firstFrame)}.`,
    `Rectangles received by encoding: ${encodings}; ${(rfb.stats.bytesReceived / 1024).toFixed(0)} KiB in ${rfb.stats.updates} updates, the keystroke updates were parsed and applied in ${ms(applyPerUpdate)} each on average (the client's share of the latency).`,
    `Keystrokes visible within 12 ms: ${((100 * ours.within12) / runs).toFixed(0)} % (ours), ${((100 * peer.within12) / runs).toFixed(0)} % (peer).`,
    'Keystroke → mirror is the time from writing the key events to the end of the FramebufferUpdate that first changed pixels. Xvnc sends what X draws as it draws it; x11vnc polls the screen (`-noxdamage -wait 5 -defer 5`), which is also why it keeps a core busy while a client is connected.',
  ].join('\n\n');
  const body = `### Display stack\n\n${stackTable}\n\n### RFB key events against the peer (Xvnc)\n\n${table}\n\n${notes}`;
  console.log(body);
  writeSection('rfb-latency', 'Display stack (Xvnc against Xvfb + x11vnc) and RFB key events', 'npx tsx bench/rfb-latency.ts', body);
} finally {
  client?.close();
  await station.dispose();
}
