/**
 * RFB key events against x11vnc in a real workstation, beside the peer method (xdotool
 * through the Engine API's exec) in the same run and container:
 *   npx tsx bench/rfb-latency.ts
 * Writes its section of BENCHMARKS.md. BENCH_RUNS sets the number of keystrokes (default 60).
 */
import { performance } from 'node:perf_hooks';
import { RfbClient, keyEventsForInput } from '../src/rfb/index.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { findWorkstationImage, startRfbWorkstation } from './rfb-workstation.js';
import { ms, summarise, type Sample } from './lib/stats.js';
import { writeSection } from './lib/report.js';

const runs = Number(process.env.BENCH_RUNS ?? 60);
const image = await findWorkstationImage(createDockerClient());
if (!image) {
  console.error('No nexora-workstation image: build it with `nexora image build` first.');
  process.exit(1);
}

const station = await startRfbWorkstation({ image, namePrefix: 'nexora-bench-rfb' });
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
  const keystroke = async (index: number, send: (character: string) => Promise<void> | void): Promise<{ write: number; visible: number }> => {
    // ctrl+u every 30 keys keeps the line short, so every keystroke changes a few cells.
    const character = index % 30 === 29 ? '\x15' : String.fromCharCode(97 + (index % 26));
    const sent = performance.now();
    await send(character);
    const write = performance.now() - sent;
    const result = await rfb.waitForUpdate({ after: sent, timeoutMs: 3000 });
    if (result.outcome !== 'updated') throw new Error('a keystroke produced no framebuffer update within 3 s');
    await rfb.waitForQuiet({ quietMs: 40, timeoutMs: 2000 });
    return { write, visible: result.lastUpdateAt - sent };
  };

  const measureKeys = async (send: (character: string) => Promise<void> | void): Promise<{ write: Sample; visible: Sample; within30: number }> => {
    const writes: number[] = [];
    const visibles: number[] = [];
    for (let index = 0; index < runs + 5; index++) {
      const { write, visible } = await keystroke(index, send);
      if (index >= 5) {
        writes.push(write);
        visibles.push(visible);
      }
    }
    return { write: summarise(writes), visible: summarise(visibles), within30: visibles.filter((value) => value <= 30).length };
  };

  const statsBefore = rfb.stats;
  const ours = await measureKeys((character) => rfb.typeKeys(keyEventsForInput({ text: character })));
  const statsAfter = rfb.stats;
  const applyPerUpdate = (statsAfter.applyMs - statsBefore.applyMs) / Math.max(1, statsAfter.updates - statsBefore.updates);
  const peer = await measureKeys(async (character) => {
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
    `| keystroke → change in the mirror | ${ms(ours.visible.p50)} / ${ms(ours.visible.p95)} | ${ms(peer.visible.p50)} / ${ms(peer.visible.p95)} | ≤ 30 ms |`,
  ].join('\n');
  const notes = [
    `${runs} keystrokes each way into the workstation's xterm/tmux at 1280×800; connect + handshake ${ms(connected)}, first full frame after ${ms(firstFrame)}.`,
    `Rectangles received by encoding: ${encodings}; ${(rfb.stats.bytesReceived / 1024).toFixed(0)} KiB in ${rfb.stats.updates} updates, the keystroke updates were parsed and applied in ${ms(applyPerUpdate)} each on average (the client's share of the latency).`,
    `Keystrokes visible within 30 ms: ${((100 * ours.within30) / runs).toFixed(0)} % (ours), ${((100 * peer.within30) / runs).toFixed(0)} % (peer).`,
    'Keystroke → mirror is the time from writing the key events to the end of the FramebufferUpdate that first changed pixels; most of it is x11vnc polling the screen (`-noxdamage -wait 5 -defer 5`) and the terminal redrawing.',
  ].join('\n\n');
  const body = `${table}\n\n${notes}`;
  console.log(body);
  writeSection('rfb-latency', 'RFB key events and keystroke → framebuffer latency', 'npx tsx bench/rfb-latency.ts', body);
} finally {
  client?.close();
  await station.dispose();
}
