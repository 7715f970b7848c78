// PGlite open times and memory, each measured in a fresh process (the way a CLI command pays
// them). Prints a Markdown block; with --write it also replaces its section of BENCHMARKS.md.
//   node --import tsx bench/pglite-open.ts [--runs 3] [--write]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../src/store/index.js';
import { writeSection } from './lib/report.js';
import { ms, summarise } from './lib/stats.js';

type Mode = 'raw' | 'store';

interface ChildReport {
  openMs: number;
  /** CPU time (user + system) spent opening: steadier than wall time on a busy machine. */
  openCpuMs: number;
  queryMs: number;
  peakRssMiB: number;
  rssAfterCloseMiB: number;
}

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const mode = process.argv[3] as Mode;
  const dataDir = process.argv[4] as string;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const cpuMs = () => {
    const used = process.cpuUsage(cpuAtStart);
    return (used.user + used.system) / 1000;
  };
  // The same steps for both: open, one query, close. Only what "open" means differs.
  const db =
    mode === 'raw'
      ? await PGlite.create(dataDir).then((pglite) => ({ query: (sql: string) => pglite.query(sql), close: () => pglite.close() }))
      : await openDatabase({ dataDir, env: {} });
  const openMs = performance.now() - started;
  const openCpuMs = cpuMs();
  const queryStarted = performance.now();
  await db.query(mode === 'raw' ? 'SELECT 1' : 'SELECT count(*) FROM sessions');
  const queryMs = performance.now() - queryStarted;
  await db.close();
  const report: ChildReport = { openMs, openCpuMs, queryMs, peakRssMiB: peakRss(), rssAfterCloseMiB: process.memoryUsage().rss / 1048576 };
  process.stdout.write(JSON.stringify(report));
  process.exit(0);
}

function peakRss(): number {
  // maxRSS is in KiB on Linux.
  return process.resourceUsage().maxRSS / 1024;
}

function child(mode: Mode, dataDir: string): ChildReport {
  const output = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, dataDir], { encoding: 'utf8' });
  return JSON.parse(output) as ChildReport;
}

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 3;
const rows: string[] = [];
const root = mkdtempSync(join(tmpdir(), 'nexora-bench-pglite-'));
try {
  for (const mode of ['raw', 'store'] as const) {
    const first: ChildReport[] = [];
    const again: ChildReport[] = [];
    for (let run = 0; run < runs; run++) {
      const dataDir = join(root, `${mode}-${run}`);
      first.push(child(mode, dataDir));
      for (let reopen = 0; reopen < 2; reopen++) again.push(child(mode, dataDir));
    }
    const label = mode === 'raw' ? '`PGlite.create` alone' : '`openDatabase` (lock + PGlite + migrations check)';
    for (const [phase, reports] of [['first open (new directory)', first], ['re-open (existing directory)', again]] as const) {
      const open = summarise(reports.map((report) => report.openMs));
      const cpu = summarise(reports.map((report) => report.openCpuMs));
      const query = summarise(reports.map((report) => report.queryMs));
      const peak = summarise(reports.map((report) => report.peakRssMiB));
      rows.push(`| ${label} | ${phase} | ${ms(open.p50)} (max ${ms(Math.max(...reports.map((report) => report.openMs)))}) | ${ms(cpu.p50)} | ${ms(query.p50)} | ${peak.p50.toFixed(0)} MiB (max ${Math.max(...reports.map((report) => report.peakRssMiB)).toFixed(0)}) | ${reports.length} |`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const body = [
  'Each figure is measured in a fresh Node process, as a CLI command pays it. Peak RSS is the whole process (`process.resourceUsage().maxRSS`): Node, tsx and PGlite. CPU is user + system time of the open, steadier than wall time on a shared machine.',
  `Load average when the run ended: ${loadavg().map((value) => value.toFixed(1)).join(', ')} (${cpus().length} cores).`,
  '',
  '| what | phase | open (wall), p50 | open (CPU), p50 | first query | peak RSS, p50 | runs |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
process.stdout.write(`${body}\n`);
if (process.argv.includes('--write')) writeSection('pglite-open', 'PGlite open time and memory', 'node --import tsx bench/pglite-open.ts --write', body);
