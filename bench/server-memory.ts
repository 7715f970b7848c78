/**
 * The server's memory (VmRSS of `nexora serve`, nothing else counted), in one run:
 *   npm run build && npx tsx bench/server-memory.ts [--write]
 * 1. Where it goes: fresh processes that add one part at a time (Node and the server's modules,
 *    PGlite as it opens by default, with the store's settings, with the baseline compiler).
 * 2. Idle on a new home (the server creates the store) and on the same home again.
 * 3. 20, then 50 sessions: idle, under load (BENCH_CALLS tool calls at once spread over them:
 *    screenshots with a PNG, terminal text, commands), and idle again once their tool channels
 *    were released. Every container and the home are removed at the end.
 * With --write it replaces its section of BENCHMARKS.md.
 */
import { execFileSync, execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { HealthBody } from '../src/client/api-schemas.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { eventually } from '../test/fixtures/eventually.js';
import { cliPath } from '../test/fixtures/run-cli.js';
import { testImage } from '../test/fixtures/session-env.js';
import { writeSection } from './lib/report.js';
import { startBenchServer, type BenchServer } from './lib/server-home.js';

const run = promisify(execFile);
const calls = Number(process.env.BENCH_CALLS ?? 900);
const loads = (process.env.BENCH_SESSIONS ?? '20,50').split(',').map(Number);
const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);
const dist = (path: string): string => pathToFileURL(join(import.meta.dirname, '..', 'dist', path)).href;

/** VmRSS and VmHWM (the peak since the process began) of a process, in bytes. */
function processMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

// --- 1. where the memory goes ------------------------------------------------------------

/** One fresh `node` process (no tsx: as the server runs) that imports the server and opens a store one way. */
function probe(step: 'modules' | 'pglite-defaults' | 'pglite-settings' | 'store', dataDir: string): number {
  const code = `
    const { readFileSync } = await import('node:fs');
    await import(${JSON.stringify(dist('server/nexora-server.js'))});
    const step = ${JSON.stringify(step)};
    if (step === 'pglite-defaults' || step === 'pglite-settings') {
      const { PGlite } = await import('@electric-sql/pglite');
      const { pgliteStartParams } = await import(${JSON.stringify(dist('store/pglite/pglite-settings.js'))});
      const pg = await PGlite.create(${JSON.stringify(dataDir)}, step === 'pglite-settings' ? { startParams: pgliteStartParams() } : {});
      for (let i = 0; i < 200; i++) await pg.query('SELECT count(*) FROM sessions');
    } else if (step === 'store') {
      const { openDatabase } = await import(${JSON.stringify(dist('store/index.js'))});
      const db = await openDatabase({ dataDir: ${JSON.stringify(dataDir)}, env: {} });
      for (let i = 0; i < 200; i++) await db.query('SELECT count(*) FROM sessions');
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    process.stdout.write(String(process.memoryUsage().rss));
    process.exit(0);`;
  // Run from the repository so that the bare '@electric-sql/pglite' resolves.
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: join(import.meta.dirname, '..') }));
}

/** Peak RSS of a process that creates a data directory in itself, as the store did before initdb moved to a child. */
function initdbInProcessPeak(dataDir: string): number {
  const code = `const { PGlite } = await import('@electric-sql/pglite'); const pg = await PGlite.create(${JSON.stringify(dataDir)}); await pg.close(); process.stdout.write(String(process.resourceUsage().maxRSS * 1024)); process.exit(0);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: join(import.meta.dirname, '..') }));
}

async function breakdownRows(): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'nexora-bench-mem-'));
  try {
    const created = join(root, 'created');
    const { openDatabase } = await import('../src/store/index.js');
    await (await openDatabase({ dataDir: created, env: {} })).close();
    const copy = (name: string): string => {
      cpSync(created, join(root, name), { recursive: true });
      return join(root, name);
    };
    const modules = probe('modules', '');
    const defaults = probe('pglite-defaults', copy('defaults'));
    const settings = probe('pglite-settings', copy('settings'));
    const store = probe('store', copy('store'));
    const initdb = initdbInProcessPeak(join(root, 'initdb'));
    return [
      `| Node and the server's modules, no store | ${mib(modules)} MiB | — |`,
      `| + PGlite opened as it comes (shared_buffers 128MB, TurboFan tier-up) | ${mib(defaults)} MiB | +${mib(defaults - modules)} MiB |`,
      `| + the store's settings (shared_buffers 4MB, work_mem 1MB, …) | ${mib(settings)} MiB | ${mib(settings - defaults)} MiB |`,
      `| + baseline compiler only (\`--liftoff-only\`): \`openDatabase\` as the server calls it | ${mib(store)} MiB | ${mib(store - settings)} MiB |`,
      `| (before: initdb in the process itself, peak while creating a new directory) | ${mib(initdb)} MiB | kept until the process exits |`,
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// --- 2. idle on a new and an existing home -----------------------------------------------

async function health(client: NexoraClient): Promise<HealthBody> {
  return client.get<HealthBody>('/v1/health', { timeoutMs: 30_000 });
}

/** Lets the server settle (GC, the store's first queries), then reads its memory. */
async function idle(client: NexoraClient): Promise<{ rss: number; peak: number; pid: number }> {
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const { pid } = await health(client);
  return { ...processMemory(pid), pid };
}

// --- 3. sessions under load --------------------------------------------------------------

async function startSessions(bench: BenchServer, count: number): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const client = new NexoraClient({ socketPath: bench.socket });
      try {
        await client.stream('POST', '/v1/sessions', { workspaceDir: bench.workspace, usePool: false }, ({ event, data }) => {
          if (event === 'result') ids.push((data as { session: { id: string } }).session.id);
          if (event === 'error') process.stderr.write(`start failed: ${JSON.stringify(data)}\n`);
        });
      } finally {
        client.close();
      }
    }),
  );
  return ids;
}

/** `calls` tool calls at once over the sessions, sampling the server's RSS meanwhile; returns the peak seen. */
async function load(bench: BenchServer, pid: number, ids: string[]): Promise<{ peak: number; failed: number; ms: number; heap: number; external: number }> {
  let peak = processMemory(pid).rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, processMemory(pid).rss);
  }, 100);
  // What the server itself says it holds while loaded (one health request in flight at a time).
  const split = { heap: 0, external: 0 };
  const monitor = new NexoraClient({ socketPath: bench.socket });
  let sampling = true;
  const sampled = (async () => {
    while (sampling) {
      const memory = (await health(monitor).catch(() => undefined))?.memory;
      if (memory) {
        split.heap = Math.max(split.heap, memory.heapUsedBytes);
        split.external = Math.max(split.external, memory.externalBytes);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const started = Date.now();
  let failed = 0;
  // One client per session, as one agent each: 16 connections apiece at most.
  const clients = ids.map(() => new NexoraClient({ socketPath: bench.socket }));
  try {
    await Promise.all(
      Array.from({ length: calls }, async (_, index) => {
        const session = index % ids.length;
        const client = clients[session] as NexoraClient;
        const id = ids[session] as string;
        const kind = index % 3;
        const call =
          kind === 0
            ? client.raw('GET', `/v1/sessions/${id}/screen`, undefined, { timeoutMs: 300_000, headers: { accept: 'image/png' } }).then((answer) => {
                if (answer.status !== 200) throw new Error(`screen answered ${answer.status}`);
              })
            : kind === 1
              ? client.get(`/v1/sessions/${id}/terminal`, { timeoutMs: 300_000 })
              : client.post(`/v1/sessions/${id}/execute`, { command: `seq 1 2000 | tail -n 1` }, { timeoutMs: 300_000 });
        await call.catch(() => {
          failed++;
        });
      }),
    );
  } finally {
    clearInterval(sampler);
    sampling = false;
    await sampled;
    monitor.close();
    for (const client of clients) client.close();
  }
  return { peak: Math.max(peak, processMemory(pid).rss), failed, ms: Date.now() - started, ...split };
}

const docker = createDockerClient();
const image = await testImage(docker);
const breakdown = await breakdownRows();
// Channels idle for 10 s are released, so the bench sees the release without waiting 5 min.
const bench = await startBenchServer({ name: 'mem', docker, env: { NEXORA_WORKSTATION_IMAGE: image, NEXORA_CHANNEL_IDLE_SECONDS: '10', NEXORA_START_TIMEOUT: '600' } });
const rows: string[] = [];
const sessionRows: string[] = [];
const loadBefore = loadavg();
try {
  const fresh = await idle(bench.client);
  rows.push(`| idle, new home (the server created the store) | ${mib(fresh.rss)} MiB | ${mib(fresh.peak)} MiB |`);
  await run(process.execPath, [cliPath, 'server', 'stop'], { env: bench.env });
  await run(process.execPath, [cliPath, 'server', 'start'], { env: bench.env });
  const again = await idle(bench.client);
  rows.push(`| idle, existing home (server restarted on it) | ${mib(again.rss)} MiB | ${mib(again.peak)} MiB |`);
  const { pid } = again;
  const ids: string[] = [];
  for (const count of loads) {
    ids.push(...(await startSessions(bench, count - ids.length)));
    const before = await idle(bench.client);
    const loaded = await load(bench, pid, ids);
    const busy = processMemory(pid);
    const open = (await health(bench.client)).memory;
    // Released once nobody has asked for 10 s (the sweep runs every 5 s).
    await eventually(() => health(bench.client), (body) => (body.memory?.channels.sessions ?? 1) === 0, 'the idle channels released', 120_000);
    const released = await idle(bench.client);
    const releasedMemory = (await health(bench.client)).memory;
    const perIdle = (released.rss - again.rss) / ids.length;
    sessionRows.push(
      `| ${ids.length} | ${mib(before.rss)} MiB | ${calls} in ${(loaded.ms / 1000).toFixed(1)} s (${loaded.failed} failed) | ${mib(loaded.peak)} MiB (V8 heap ≤ ${mib(loaded.heap)}, external ≤ ${mib(loaded.external)}) | ${mib(busy.rss)} MiB (channels of ${open?.channels.sessions ?? '?'}: framebuffers ${mib(open?.channels.framebufferBytes ?? 0)} MiB) | ${mib(released.rss)} MiB (external ${mib(releasedMemory?.externalBytes ?? 0)}) | ${(perIdle / 1048576).toFixed(2)} MiB |`,
    );
    process.stderr.write(`${sessionRows.at(-1)}\n`);
  }
} finally {
  await bench.dispose();
}

const body = [
  `The server's VmRSS from /proc (the whole \`nexora serve\` process; containers not counted), on ${cpus().length} cores shared with other work (load average before: ${loadBefore.map((value) => value.toFixed(1)).join(' / ')}, after: ${loadavg().map((value) => value.toFixed(1)).join(' / ')}). Targets: idle ≤ 150 MiB on either home, ≤ 3 MiB per idle session, peak under the 20-session load ≤ 300 MiB.`,
  '',
  'Where it goes (each line a fresh `node` process that adds one part, RSS after 200 queries and 1 s):',
  '',
  '| what | RSS | difference |',
  '| --- | --- | --- |',
  ...breakdown,
  '',
  '| server | RSS | peak (VmHWM) |',
  '| --- | --- | --- |',
  ...rows,
  '',
  `Sessions (cold starts, no pool). Load: ${calls} tool calls at once spread over the sessions, one client each: a third screenshots as PNG, a third terminal text, a third \`execute\`. Under load the server's own \`process.memoryUsage()\` is sampled through \`/v1/health\` (the largest V8 heap in use and the largest external memory seen: buffers, the store's WebAssembly heap). "Channels released" also gives the external memory the server then reports (the store's WebAssembly heap is most of it: about 140 MiB reserved in a fresh process). Per idle session: (RSS with every session's channels released − idle RSS on the existing home) / sessions.`,
  '',
  '| sessions | idle, before load | load | peak RSS under load | after load | channels released | per idle session |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...sessionRows,
  '',
  `Reading it: the store's cost is PGlite's compiled module and the part of its WebAssembly heap PostgreSQL touches, and shared memory is touched whole at start, so shared_buffers counts in full; initdb's ~0.8 GiB now stays in a child process that exits. A session whose tool channels are open holds its framebuffer mirror (4 bytes a pixel, 3.9 MiB at 1280×800) and, once it has been looked at, a second full copy of the frame that the next look diffs against (\`previousFrame\` in src/tools/workstation-tools.ts, not counted in "framebuffers"), plus its RFB, tmux and command-server sockets: about 8 MiB a session, which is most of the external memory under load above the store's ~150 MiB. Bounded: rectangles inflate in one synchronous step into one buffer shared by every connection, a connection buffers at most 1 MiB of socket data before pausing, and PNG encoding reuses one row buffer. Per idle session is RSS the process keeps after channels close and a full collection, divided by the sessions, so it falls as sessions grow. An unchanged screen's PNG is cached, so most screenshots under load do not re-encode. Channels unused for \`NEXORA_CHANNEL_IDLE_SECONDS\` (default 300, 10 here) are closed and their buffers collected ("channels released").`,
].join('\n');
process.stdout.write(`${body}\n`);
if (process.argv.includes('--write')) writeSection('server-memory', "The server's memory", 'npm run build && npx tsx bench/server-memory.ts --write', body);
