/**
 * The browser tools against the peer method (xdotool by coordinates + a full screenshot, both
 * through `docker exec`), in the same run and the same workstation:
 *   npx tsx bench/browser.ts
 * Writes its section of BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startToolsWorkstation } from '../test/fixtures/tools-workstation.js';
import { measure, ms, type Sample } from './lib/stats.js';
import { writeSection } from './lib/report.js';

const run = promisify(execFile);
const runs = Number(process.env.BENCH_RUNS ?? 20);

const station = await startToolsWorkstation('bench-browser');
const { tools } = station.connected;
const browser = tools.browser!;
const id = station.containerId;
const dockerExec = async (...args: string[]): Promise<Buffer> =>
  (await run('docker', ['exec', '-u', '1000:1000', '-e', 'DISPLAY=:1', id, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' })).stdout;
const fullScreenshot = (): Promise<Buffer> => dockerExec('import', '-window', 'root', 'png:-');

type Row = { operation: string; ours: Sample; peerName: string; peer: Sample; };
const rows: Row[] = [];
const sizes: string[] = [];

try {
  const app = readFileSync(join(import.meta.dirname, '../test/fixtures/web-app/app.py'), 'utf8');
  await tools.execute(`cat > /tmp/app.py <<'NEXORA_EOF'\n${app}\nNEXORA_EOF`);
  // A bigger, documentation-like page for the size comparison.
  const sections = Array.from({ length: 40 }, (_, index) =>
    `<h2>Section ${index}</h2><p>Paragraph ${index} explains a feature of the product in a sentence or two, with <a href="#s${index}">a link</a>.</p><ul><li>first point ${index}</li><li>second point ${index}</li></ul>`,
  ).join('\n');
  await tools.execute(`mkdir -p /tmp/site && cat > /tmp/site/index.html <<'NEXORA_EOF'\n<!doctype html><html><head><title>Docs</title><style>body{font:16px sans-serif;max-width:900px;margin:auto}</style></head><body><nav><a href="/">Home</a> <a href="/api">API</a></nav><h1>Documentation</h1><form><input name="q" placeholder="Search"><button>Search</button></form>${sections}</body></html>\nNEXORA_EOF`);
  await tools.execute('setsid python3 /tmp/app.py 8000 >/dev/null 2>&1 </dev/null & setsid python3 -m http.server 8001 -d /tmp/site >/dev/null 2>&1 </dev/null & sleep 0.5');
  const app8000 = 'http://localhost:8000/';
  await browser.navigate({ url: app8000 }); // starts Chromium

  rows.push({
    operation: 'navigate to a local page (and wait for it)',
    ours: await measure(() => browser.navigate({ url: app8000 }), { runs }),
    peerName: 'xdotool ctrl+l, type the URL, Enter; full screenshot',
    peer: await measure(async () => {
      await dockerExec('xdotool', 'key', 'ctrl+l', 'type', '--delay', '0', app8000);
      await dockerExec('xdotool', 'key', 'Return');
      await fullScreenshot();
    }, { runs }),
  });
  rows.push({
    operation: 'read the page (snapshot, whole)',
    ours: await measure(() => browser.snapshot({ full: true }), { runs }),
    peerName: 'full screenshot (`import -window root png:-`)',
    peer: await measure(() => fullScreenshot(), { runs }),
  });
  const snapshot = (await browser.snapshot({ full: true })).text;
  const button = /button "Add one" \[ref=(\w+)\]/.exec(snapshot)![1]!;
  rows.push({
    operation: 'click a button (and wait for the page to settle)',
    ours: await measure(async () => {
      const clicked = await browser.click({ ref: button });
      if (clicked.isError) throw new Error(`the click failed: ${clicked.text}`);
    }, { runs }),
    peerName: 'xdotool mousemove + click; full screenshot',
    peer: await measure(async () => {
      await dockerExec('xdotool', 'mousemove', '200', '300', 'click', '1');
      await fullScreenshot();
    }, { runs }),
  });

  for (const [name, url] of [['test app', app8000], ['documentation page (40 sections)', 'http://localhost:8001/']] as const) {
    await browser.navigate({ url });
    const whole = await browser.snapshot({ full: true });
    const html = (await tools.execute(`curl -s ${url}`)).stdout;
    const png = await fullScreenshot();
    const screen = await tools.screen({ image: true });
    sizes.push(`| ${name} | ${whole.text.length.toLocaleString('en')} | ${html.length.toLocaleString('en')} | ${png.length.toLocaleString('en')} B (import) / ${(screen.png?.length ?? 0).toLocaleString('en')} B (screen()) |`);
  }
  await browser.navigate({ url: app8000 });
  await browser.snapshot({ full: true });
  await browser.click({ ref: button });
  const lean = await browser.snapshot();
  sizes.push(`| test app, after one click (lean snapshot: the changes only) | ${lean.text.length.toLocaleString('en')} | — | — |`);
} finally {
  await station.dispose();
}

const table = [
  '| operation | Nexora p50 | p95 | peer method | peer p50 | p95 | ratio (p50) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((row) => `| ${row.operation} | ${ms(row.ours.p50)} | ${ms(row.ours.p95)} | ${row.peerName} | ${ms(row.peer.p50)} | ${ms(row.peer.p95)} | ${(row.peer.p50 / row.ours.p50).toFixed(1)}× |`),
].join('\n');
const sizeTable = ['| page | snapshot (characters) | page HTML (characters) | full-screen PNG |', '| --- | --- | --- | --- |', ...sizes].join('\n');
console.log(`${table}\n\n${sizeTable}`);
writeSection(
  'browser',
  'Browser tools against xdotool + screenshots (same workstation)',
  'npx tsx bench/browser.ts',
  `${runs} measured runs per row after warm-up. Our times include the bounded wait for the page to settle (load event and 150 ms of network quiet) and the tool's text answer; the peer's include one full screenshot, which is what it needs to see the result (and it does not know when the page is done). The peer clicks at fixed coordinates: it has no refs.\n\n${table}\n\nWhat the model reads:\n\n${sizeTable}`,
);
