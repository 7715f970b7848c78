/**
 * The server and its clients against the peer methods, in the same run:
 *   npm run build && npx tsx bench/server.ts
 * CLI commands (wall time, peak memory) against `docker ps -a`; tool calls through the API
 * against the same calls in-process (needs the workstation image). Writes its section of
 * BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { cliPath } from '../test/fixtures/run-cli.js';
import { testImage } from '../test/fixtures/session-env.js';
import { connectTools, type ConnectedTools } from '../src/tools/connect-tools.js';
import { DockerBackend } from '../src/workstation/docker/docker-backend.js';
import { currentOwner } from '../src/workstation/labels.js';
import { writeSection } from './lib/report.js';
import { startBenchServer } from './lib/server-home.js';
import { measurePaired, ms, summarise, type Sample } from './lib/stats.js';

const run = promisify(execFile);
const mainPath = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 10);
/** Tool-call pairs per case: the overhead is a fraction of a millisecond's difference, on a noisy host. */
const pairs = runs * 15;
const docker = createDockerClient();
const image = await testImage(docker).catch(() => undefined);
const bench = await startBenchServer({ name: 'srv', docker, env: image ? { NEXORA_WORKSTATION_IMAGE: image } : {} });
const { client, env, workspace } = bench;

/** Wall time and peak RSS of one process, from GNU time. */
async function timed(command: string, args: string[]): Promise<{ ms: number; kib: number }> {
  const { stderr } = await run('/usr/bin/time', ['-f', '%e %M', command, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
  const [seconds, kib] = stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  return { ms: (seconds ?? Number.NaN) * 1000, kib: kib ?? Number.NaN };
}

async function cliRows(): Promise<string[]> {
  const cases: [string, string, string[]][] = [
    ['`docker ps -a` (peer)', 'docker', ['ps', '-a']],
    ['`nexora --version`', process.execPath, [cliPath, '--version']],
    ['`nexora --help`', process.execPath, [cliPath, '--help']],
    ['`nexora session list` (server running)', process.execPath, [cliPath, 'session', 'list']],
    // The same command without the bundled client path (bin/nexora.js runs it from dist/cli/client.cjs).
    ['`nexora session list`, unbundled (`node dist/cli/main.js`)', process.execPath, [mainPath, 'session', 'list']],
    ['`nexora keys list` (server running)', process.execPath, [cliPath, 'keys', 'list']],
    ['`node -e 0` (floor)', process.execPath, ['-e', '0']],
  ];
  const rows: string[] = [];
  let peer: Sample | undefined;
  for (const [label, command, args] of cases) {
    const samples: { ms: number; kib: number }[] = [];
    for (let index = 0; index < runs; index++) samples.push(await timed(command, args));
    const wall = summarise(samples.map((sample) => sample.ms));
    const memory = Math.max(...samples.map((sample) => sample.kib)) / 1024;
    peer ??= wall;
    rows.push(`| ${label} | ${ms(wall.p50)} | ${ms(wall.p95)} | ${(wall.p50 / peer.p50).toFixed(1)}× | ${memory.toFixed(0)} MiB |`);
  }
  return rows;
}

/** In-process tools of our own (channels of their own) on the session's own container: the same calls on the same workstation. */
async function inProcessTools(id: string): Promise<ConnectedTools> {
  const shown = await client.get<{ container: { id: string }; vncPassword: string }>(`/v1/sessions/${id}?showPassword=1`);
  const backend = new DockerBackend({ docker, image: image ?? '', owner: currentOwner('bench') });
  const container = await backend.inspect(shown.container.id);
  if (!container) throw new Error(`the container of ${id} vanished`);
  return connectTools(backend.workstation(container, shown.vncPassword));
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function apiRows(): Promise<string[]> {
  const started = await client.post<{ session: { id: string } }>('/v1/sessions', { workspaceDir: workspace, usePool: false }, { timeoutMs: 300_000 });
  const id = started.session.id;
  const connected = await inProcessTools(id);
  try {
    const { tools } = connected;
    await client.post(`/v1/sessions/${id}/execute`, { command: 'true' }, { timeoutMs: 60_000 });
    // The same work on both sides: keyboard waits at most 1 ms for the screen in both (the API has no "no wait").
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      ['HTTP floor: GET /v1/health against nothing', () => Promise.resolve(), () => client.get('/v1/health')],
      // What a call costs when the server has been idle as long as an execute takes: its wake-up.
      ['HTTP floor after 12 ms idle: GET /v1/health against nothing', () => pause(12), async () => { await pause(12); await client.get('/v1/health'); }],
      ['execute("true")', () => tools.execute('true'), () => client.post(`/v1/sessions/${id}/execute`, { command: 'true' })],
      ['terminal text', () => tools.terminalText(), () => client.get(`/v1/sessions/${id}/terminal`)],
      ['screen() text only', () => tools.screen({ image: false }), () => client.get(`/v1/sessions/${id}/screen?image=0`)],
      ['screen() with PNG', () => tools.screen(), () => client.raw('GET', `/v1/sessions/${id}/screen`, undefined, { headers: { accept: 'image/png' } })],
      ['keyboard("x"), 1 ms wait', () => tools.keyboard({ text: 'x', wait: { timeoutMs: 1 } }), () => client.post(`/v1/sessions/${id}/keyboard`, { text: 'x', timeoutMs: 1 })],
    ];
    const rows: string[] = [];
    for (const [label, local, remote] of cases) {
      const paired = await measurePaired(local, remote, { runs: pairs });
      rows.push(`| ${label} | ${ms(paired.a.p50)} | ${ms(paired.b.p50)} | ${ms(paired.differenceP50)} | ${ms(paired.b.p95)} |`);
    }
    return rows;
  } finally {
    connected.close();
    await client.post(`/v1/sessions/${id}/stop`, {}, { timeoutMs: 120_000 }).catch(() => undefined);
  }
}

try {
  const cli = await cliRows();
  const api = image ? await apiRows() : ['| (no workstation image: build it with `nexora image build`) | | | | |'];
  const body = [
    `CLI commands as clients of a running server, ${runs} runs each (peak RSS is the largest of the runs). Ratio: p50 against \`docker ps -a\`.`,
    '',
    '| command | p50 | p95 | vs docker ps -a | peak memory |',
    '| --- | --- | --- | --- | --- |',
    ...cli,
    '',
    `Tool calls on one session: in-process (our library over channels of its own to the session's container) against the API (HTTP over the Unix socket, keep-alive, the server's shared channels to the same container); ${pairs} pairs, the two run alternately and take turns going first; overhead is the p50 of the per-pair difference. Load average at the end: ${loadavg().map((value) => value.toFixed(1)).join(' / ')} (1/5/15 min). Target: ≤ 2 ms p50 overhead.`,
    '',
    '| call | in-process p50 | API p50 | overhead p50 | API p95 |',
    '| --- | --- | --- | --- | --- |',
    ...api,
    '',
    'The burst of 100 starts against manual batches is its own section (`bench/session-burst.ts`).',
  ].join('\n');
  writeSection('server', 'The server and its clients', 'npx tsx bench/server.ts', body);
  process.stdout.write(`${body}\n`);
} finally {
  await bench.dispose();
}
