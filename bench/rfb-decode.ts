/**
 * How fast the RFB client applies a full 1280×800 frame in each encoding, end to end over
 * loopback from the in-process fake server (encode time excluded), and what a snapshot costs:
 *   npx tsx bench/rfb-decode.ts
 * Writes its section of BENCHMARKS.md.
 */
import { performance } from 'node:perf_hooks';
import { RfbClient } from '../src/rfb/index.js';
import { FakeRfbServer } from '../src/rfb/testing/fake-rfb-server.js';
import { encodeHextile, encodeRaw, encodeZlib, encodeZrle, makeTestImage, type TestImage } from '../src/rfb/testing/rect-encoders.js';
import { measure, ms, summarise } from './lib/stats.js';
import { writeSection } from './lib/report.js';

const width = 1280;
const height = 800;
const runs = Number(process.env.BENCH_RUNS ?? 15);

/** A terminal-like frame: one background, a few glyph-ish colours in cells. */
function terminalFrame(seed: number): TestImage {
  const pixels = new Uint32Array(width * height).fill(0xff1e1e1e);
  let state = seed;
  for (let y = 0; y < 760; y++) {
    for (let x = 0; x < 1264; x++) {
      const cell = Math.floor(x / 9) + Math.floor(y / 19) * 140;
      state = (state * 1103515245 + 12345 + cell) >>> 0;
      if ((cell * 2654435761) % 3 === 0 && (x % 9) < 7 && (y % 19) > 3 && (y % 19) < 16 && state % 3 === 0) pixels[y * width + x] = 0xffd0d0d0;
    }
  }
  return { width, height, pixels };
}

const server = await FakeRfbServer.start({ width, height });
const client = await RfbClient.connect({ host: '127.0.0.1', port: server.port, reconnect: false });
const peer = await server.peer(0);
const rows: string[] = [];
try {
  const frames = [terminalFrame(1), terminalFrame(2)];
  const noisy = [makeTestImage(width, height, 3), makeTestImage(width, height, 4)];
  const encoders: Array<[string, (image: TestImage) => Buffer]> = [
    ['Raw', (image) => encodeRaw(0, 0, image)],
    ['Hextile', (image) => encodeHextile(0, 0, image)],
    ['Zlib', (image) => encodeZlib(0, 0, image, (data) => peer.deflate('zlib', data))],
    ['ZRLE', (image) => encodeZrle(0, 0, image, (data) => peer.deflate('zrle', data))],
  ];
  for (const [name, encode] of encoders) {
    for (const [kind, images] of [['terminal', frames], ['noisy', noisy]] as const) {
      // Alternate two frames so every update changes pixels; the streams stay persistent.
      const encoded = Array.from({ length: runs }, (_, index) => encode(images[index % 2]!));
      const times: number[] = [];
      for (const update of encoded) {
        const sent = performance.now();
        peer.sendUpdate([update]);
        const result = await client.waitForUpdate({ after: sent, timeoutMs: 10_000 });
        if (result.outcome !== 'updated') throw new Error(`${name} frame not applied`);
        times.push(result.lastUpdateAt - sent);
      }
      const sample = summarise(times.slice(2));
      rows.push(`| ${name} | ${kind} | ${(encoded[0]!.length / 1024).toFixed(0)} KiB | ${ms(sample.p50)} | ${ms(sample.p95)} |`);
    }
  }
  const snapshot = await measure(() => client.snapshot(), { runs: 50 });
  const body = [
    '| encoding | frame | bytes on the wire | applied p50 | applied p95 |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `\`snapshot()\` (copy of the 4 MB RGBA mirror): p50 ${ms(snapshot.p50)}, p95 ${ms(snapshot.p95)}. Reading \`framebuffer\` directly costs nothing.`,
    '',
    'Applied = from the fake server writing a full 1280×800 update on loopback to the client having decoded it into the mirror (encoding excluded).',
  ].join('\n');
  console.log(body);
  writeSection('rfb-decode', 'RFB client: applying full 1280×800 frames', 'npx tsx bench/rfb-decode.ts', body);
} finally {
  client.close();
  await server.close();
}
