/**
 * The visual tools against the peer methods, in the same run and the same container:
 *   npx tsx bench/tools.ts
 * Writes its section of BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { keyEventsForInput } from '../src/rfb/index.js';
import { startToolsWorkstation } from '../test/fixtures/tools-workstation.js';
import { measure, ms, summarise, type Sample } from './lib/stats.js';
import { writeSection } from './lib/report.js';

const run = promisify(execFile);
const runs = Number(process.env.BENCH_RUNS ?? 40);

const station = await startToolsWorkstation('bench-tools');
const { tools, rfb } = station.connected;
const id = station.containerId;
const dockerExec = (...args: string[]): Promise<unknown> =>
  run('docker', ['exec', '-u', '1000:1000', '-e', 'DISPLAY=:1', id, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });

type Row = { operation: string; ours: Sample; peerName: string; peer: Sample | undefined; target: string };
const rows: Row[] = [];

try {
  await tools.keyboard({ text: "export PS1='$ '; clear\n", wait: { pattern: /^\$$/m } });
  await tools.keyboard({ text: 'ls -la /usr/bin | head -40\n', wait: { quietMs: 200 } });

  // screen() with a fresh frame each time: a keystroke changes the display before each call.
  let typed = 0;
  const freshScreen: number[] = [];
  for (let index = 0; index < runs + 3; index++) {
    const before = rfb.lastUpdateAt;
    rfb.typeKeys(keyEventsForInput({ text: typed++ % 40 === 39 ? '\x15' : 'x' }));
    await rfb.waitForUpdate({ after: before, timeoutMs: 2000 });
    const started = performance.now();
    await tools.screen();
    if (index >= 3) freshScreen.push(performance.now() - started);
  }
  
  rows.push({
    operation: '`screen()` PNG + text, 1280×800, changed frame',
    ours: summarise(freshScreen),
    peerName: '`docker exec … import -window root png:-`',
    peer: await measure(() => dockerExec('import', '-window', 'root', 'png:-'), { runs }),
    target: '≥ 10× faster',
  });
  rows.push({
    operation: '`screen()` PNG + text, unchanged frame (PNG cached)',
    ours: await measure(() => tools.screen(), { runs }),
    peerName: 'same peer',
    peer: undefined,
    target: '—',
  });
  rows.push({
    operation: 'terminal text only (`screen({ image: false })`)',
    ours: await measure(() => tools.screen({ image: false }), { runs }),
    peerName: '`docker exec … tmux capture-pane -p`',
    peer: await measure(() => dockerExec('tmux', 'capture-pane', '-p'), { runs }),
    target: '≥ 5× faster',
  });
  await tools.keyboard({ keys: ['ctrl+u'], wait: { quietMs: 100 } });
  let sends = 0;
  rows.push({
    operation: '`keyboard("hello")` sent',
    ours: await measure(() => rfb.typeKeys(keyEventsForInput({ text: sends++ % 10 === 9 ? '\x15' : 'hello' })), { runs }),
    peerName: '`docker exec … xdotool type hello`',
    peer: await measure(() => dockerExec('xdotool', 'type', 'hello'), { runs: Math.min(runs, 20) }),
    target: '≥ 100× faster',
  });
  await tools.keyboard({ keys: ['ctrl+u'], wait: { quietMs: 200 } });

  // Keystroke → change visible in the mirror.
  const visible: number[] = [];
  for (let index = 0; index < runs + 3; index++) {
    await rfb.waitForQuiet({ quietMs: 30, timeoutMs: 2000 });
    const sentAt = performance.now();
    rfb.typeKeys(keyEventsForInput({ text: index % 40 === 39 ? '\x15' : 'y' }));
    const update = await rfb.waitForUpdate({ after: sentAt, timeoutMs: 2000 });
    if (index >= 3 && update.outcome === 'updated') visible.push(update.lastUpdateAt - sentAt);
  }
  const peerVisible: number[] = [];
  for (let index = 0; index < Math.min(runs, 15); index++) {
    const before = ((await run('docker', ['exec', '-u', '1000:1000', id, 'tmux', 'capture-pane', '-p'])).stdout);
    const sentAt = performance.now();
    await dockerExec('xdotool', 'type', 'z');
    for (;;) {
      const now = (await run('docker', ['exec', '-u', '1000:1000', id, 'tmux', 'capture-pane', '-p'])).stdout;
      if (now !== before) break;
    }
    peerVisible.push(performance.now() - sentAt);
  }
  rows.push({
    operation: 'keystroke → change visible',
    ours: summarise(visible),
    peerName: 'xdotool via `docker exec`, then poll `capture-pane`',
    peer: summarise(peerVisible),
    target: '≤ 12 ms',
  });
  await tools.keyboard({ keys: ['ctrl+u'], wait: { quietMs: 100 } });

  // keyboard("true\n") until it returns, settled on the program, against the fixed quiet
  // interval it replaces (keys over RFB, then 150 ms without a frame), in the same terminal.
  const settle: number[] = [];
  const afterDrawn: number[] = [];
  for (let index = 0; index < runs + 3; index++) {
    const result = await tools.keyboard({ text: 'true\n' });
    const returnedAt = performance.now();
    if (index >= 3 && result.wait.outcome === 'input') {
      settle.push(result.wait.waitedMs);
      afterDrawn.push(returnedAt - rfb.lastUpdateAt);
    }
  }
  const fixedQuiet: number[] = [];
  for (let index = 0; index < Math.min(runs, 20); index++) {
    const sentAt = performance.now();
    rfb.typeKeys(keyEventsForInput({ text: 'true\n' }));
    await rfb.waitForQuiet({ quietMs: 150, since: sentAt, timeoutMs: 5000 });
    fixedQuiet.push(performance.now() - sentAt);
  }
  rows.push({
    operation: '`keyboard("true\\n")` until it returns (settled on the program)',
    ours: summarise(settle),
    peerName: 'the same keys, then a fixed 150 ms quiet interval',
    peer: summarise(fixedQuiet),
    target: '—',
  });
  rows.push({
    operation: '… of which after the prompt was drawn',
    ours: summarise(afterDrawn),
    peerName: '—',
    peer: undefined,
    target: '≤ 50 ms',
  });
  rows.push({
    operation: '`execute("true")`',
    ours: await measure(() => tools.execute('true'), { runs }),
    peerName: '`docker exec … true` (CLI)',
    peer: await measure(() => dockerExec('true'), { runs }),
    target: '≥ 3× faster',
  });
} finally {
  await station.dispose();
}

const table = [
  '| operation | Nexora p50 | p95 | peer method | peer p50 | p95 | ratio (p50) | target |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((row) => {
    const ratio = row.peer ? `${(row.peer.p50 / row.ours.p50).toFixed(row.peer.p50 / row.ours.p50 >= 100 ? 0 : 1)}×` : '—';
    return `| ${row.operation} | ${ms(row.ours.p50)} | ${ms(row.ours.p95)} | ${row.peerName} | ${row.peer ? ms(row.peer.p50) : '—'} | ${row.peer ? ms(row.peer.p95) : '—'} | ${ratio} | ${row.target} |`;
  }),
].join('\n');
console.log(table);
writeSection('tools', 'Visual tools against peer methods (same container)', 'npx tsx bench/tools.ts', `${runs} measured runs per row after warm-up.\n\n${table}`);
