/**
 * A burst of session starts through the server's admission queue against the same number
 * started by hand in batches (the way the host held 100 sessions before there was a queue):
 *   npm run build && BENCH_BURST=100 npx tsx bench/session-burst.ts
 * Both runs go to one server on the default embedded store; each ends with every session
 * stopped. Writes its section of BENCHMARKS.md.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HealthBody } from '../src/client/api-schemas.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { testImage } from '../test/fixtures/session-env.js';
import { writeSection } from './lib/report.js';
import { startBenchServer } from './lib/server-home.js';
import { ms, summarise } from './lib/stats.js';

const count = Number(process.env.BENCH_BURST ?? 100);
const batchSize = Number(process.env.BENCH_BATCH ?? 10);
const docker = createDockerClient();
// A port range clear of the test suites' (30000–35000 and their +5000/+10000 DevTools ranges).
const base = 41_000 + 200 * Math.floor(Math.random() * 20);
const bench = await startBenchServer({
  name: 'burst',
  docker,
  env: {
    NEXORA_WORKSTATION_IMAGE: await testImage(docker),
    NEXORA_VNC_PORTS: `${base}-${base + count + 9}`,
    NEXORA_CDP_PORTS: `${base + 10_000}-${base + 10_000 + count + 9}`,
    NEXORA_START_TIMEOUT: '600',
  },
});
const { workspace } = bench;

interface Outcome {
  id?: string;
  error?: string;
  /** From the request to ready, queue wait included. */
  ms: number;
  /** Whether it waited in the queue, and the most sessions that were waiting ahead of it. */
  queued: boolean;
  ahead: number;
}

/** One start as one program would ask: its own client, so every request of a burst reaches the server at once. */
async function startOne(): Promise<Outcome> {
  const client = new NexoraClient({ socketPath: bench.socket });
  const started = performance.now();
  let ahead = 0;
  let queued = false;
  let id: string | undefined;
  let error: string | undefined;
  await client
    .stream('POST', '/v1/sessions', { workspaceDir: workspace, usePool: false }, ({ event, data }) => {
      if (event === 'queued') {
        queued = true;
        ahead = Math.max(ahead, (data as { ahead: number }).ahead);
      }
      if (event === 'result') id = (data as { session: { id: string } }).session.id;
      if (event === 'error') error = JSON.stringify(data);
    })
    .catch((thrown: unknown) => {
      error = String(thrown);
    })
    .finally(() => client.close());
  return { ...(id ? { id } : {}), ...(error || !id ? { error: error ?? 'no result' } : {}), ms: performance.now() - started, queued, ahead };
}

async function stopAll(client: NexoraClient, outcomes: Outcome[]): Promise<number> {
  const started = performance.now();
  for (const outcome of outcomes) if (outcome.id) await client.post(`/v1/sessions/${outcome.id}/stop`, {}, { timeoutMs: 120_000 });
  return performance.now() - started;
}

async function portCollisions(): Promise<number> {
  const containers = await bench.containers();
  const ports = containers.flatMap((container) => container.Ports.map((port) => port.PublicPort).filter((port): port is number => port !== undefined));
  return ports.length - new Set(ports).size;
}

interface RunResult {
  label: string;
  totalMs: number;
  outcomes: Outcome[];
  collisions: number;
  stopMs: number;
}

async function measureRun(client: NexoraClient, label: string, starts: () => Promise<Outcome[]>): Promise<RunResult> {
  const started = performance.now();
  const outcomes = await starts();
  const totalMs = performance.now() - started;
  const collisions = await portCollisions();
  const stopMs = await stopAll(client, outcomes);
  process.stderr.write(`${label}: ${outcomes.filter((outcome) => outcome.id).length}/${count} ready in ${ms(totalMs)}\n`);
  return { label, totalMs, outcomes, collisions, stopMs };
}

function row(result: RunResult): string {
  const ready = result.outcomes.filter((outcome) => outcome.id);
  const each = summarise(result.outcomes.map((outcome) => outcome.ms));
  const queued = result.outcomes.filter((outcome) => outcome.queued);
  return `| ${result.label} | ${ready.length}/${count} | ${result.outcomes.length - ready.length} | ${result.collisions} | ${(result.totalMs / 1000).toFixed(1)} s | ${ms(each.p50)} | ${ms(each.p95)} | ${queued.length} (at most ${Math.max(0, ...result.outcomes.map((outcome) => outcome.ahead))} waiting ahead) | ${(result.stopMs / 1000).toFixed(1)} s |`;
}

const { client } = bench;
try {
  const { admission } = await client.get<HealthBody>('/v1/health');
  const loadBefore = loadavg();
  const batched = await measureRun(client, `by hand: batches of ${batchSize}, each after the previous is ready`, async () => {
    const outcomes: Outcome[] = [];
    for (let index = 0; index < count; index += batchSize) {
      outcomes.push(...(await Promise.all(Array.from({ length: Math.min(batchSize, count - index) }, () => startOne()))));
    }
    return outcomes;
  });
  const burst = await measureRun(client, `one burst of ${count} through the queue`, () => Promise.all(Array.from({ length: count }, () => startOne())));
  const failures = [...batched.outcomes, ...burst.outcomes].filter((outcome) => outcome.error).map((outcome) => outcome.error);
  const body = [
    `${count} session starts (cold, no pool) through one server on the embedded store, the admission queue letting ${admission.limit} start at once (the CPU count here). The peer is the best way to do it without the queue: batches of ${batchSize} by hand, each batch started when the previous one is ready. Load average before: ${loadBefore.map((value) => value.toFixed(1)).join(' / ')}, after: ${loadavg().map((value) => value.toFixed(1)).join(' / ')} (1/5/15 min).`,
    '',
    '| run | ready | failed | port collisions | all ready after | per start p50 (request → ready) | p95 | queued | all stopped in |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    row(batched),
    row(burst),
    '',
    `Burst against batches: ${(burst.totalMs / batched.totalMs).toFixed(2)}× the time to all ready.${failures.length ? ` Failures: ${[...new Set(failures)].slice(0, 3).join('; ')}` : ''}`,
  ].join('\n');
  writeSection('session-burst', `A burst of ${count} session starts through the server`, `BENCH_BURST=${count} npx tsx bench/session-burst.ts`, body);
  process.stdout.write(`${body}\n`);
} finally {
  await bench.dispose();
}
