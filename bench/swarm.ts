/**
 * Session start on a three-node Docker Swarm (test/fixtures/swarm-cluster.ts, built on this
 * machine) against the local Docker backend in the same run, and many sessions at once across
 * the nodes (time to all ready, placement spread, memory per node).
 *   npx tsx bench/swarm.ts [--runs 6] [--sessions 15]
 * (--runs: starts per backend; --sessions: how many run at once on the swarm at the end.)
 * Writes its section of BENCHMARKS.md. Needs root (namespaces, one dockerd per node).
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { formatBytes } from '../src/output/format.js';
import { describeError } from '../src/errors.js';
import type { SessionManager, StartedSession } from '../src/sessions/session-manager.js';
import { createSessionEnv } from '../test/fixtures/session-env.js';
import { createSwarmCluster } from '../test/fixtures/swarm-cluster.js';
import { ms, summarise } from './lib/stats.js';
import { writeSection } from './lib/report.js';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive whole number`);
  return value;
}

const runs = flag('runs', Number(process.env.BENCH_RUNS ?? 6));
const many = flag('sessions', Number(process.env.BENCH_SWARM_MANY ?? 15));
const nodeCount = 3;
// Every node of this one-machine cluster reports the host's CPUs to Swarm; the default
// reservation (0.1 CPU a workstation) admits nodes × CPUs / 0.1 workstations, 60 here. Past
// that Swarm leaves tasks pending ("insufficient resources"), as it should: reserve less.
const reserveCpus = Math.min(0.1, Math.floor(((nodeCount * cpus().length * 0.9) / many) * 100) / 100);
const world = await createSessionEnv('bswarm', { vncRange: [46400, 46599], cdpRange: [47400, 47599] });
const clusterBegan = performance.now();
const cluster = await createSwarmCluster({ nodes: nodeCount, image: world.image, log: (line) => process.stderr.write(`[swarm] ${line}\n`) });
const clusterMs = performance.now() - clusterBegan;

async function startStop(manager: SessionManager, workspace: string): Promise<{ startMs: number; stopMs: number; steps: Record<string, number> }> {
  const started = await manager.start({ workspaceDir: workspace, usePool: false });
  const steps: Record<string, number> = {};
  for (const event of await manager.events.list(started.session.id)) if (event.durationMs !== null) steps[event.kind] = event.durationMs;
  // The session is usable: a command through the side channel (through the node's engine on the swarm).
  const check = await started.workstation.exec({ cmd: 'true', timeoutMs: 30_000 });
  if (check.exitCode !== 0) throw new Error('exec failed');
  const stopBegan = performance.now();
  await manager.stopContainer(started.session.id);
  return { startMs: started.durationMs, stopMs: performance.now() - stopBegan, steps };
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

try {
  const local = await world.open();
  const swarm = await world.open({ env: { ...world.env, ...cluster.env, NEXORA_POOL_SIZE: '0', NEXORA_SWARM_RESERVE_CPUS: String(reserveCpus) }, docker: cluster.manager.docker, db: local.db });
  // Warm-up on each: page cache, networks.
  await startStop(local.manager, world.workspace('warm-local'));
  await startStop(swarm.manager, world.workspace('warm-swarm'));
  const localStarts: number[] = [];
  const localStops: number[] = [];
  const swarmStarts: number[] = [];
  const swarmStops: number[] = [];
  const swarmSteps: Record<string, number[]> = {};
  for (let index = 0; index < runs; index++) {
    const a = await startStop(local.manager, world.workspace(`local-${index}`));
    localStarts.push(a.startMs);
    localStops.push(a.stopMs);
    const b = await startStop(swarm.manager, world.workspace(`swarm-${index}`));
    swarmStarts.push(b.startMs);
    swarmStops.push(b.stopMs);
    for (const [kind, value] of Object.entries(b.steps)) (swarmSteps[kind] ??= []).push(value);
  }

  // Many at once through the same admission limit the server uses by default (2 on this machine).
  const limit = 2;
  const workspace = world.workspace('many');
  const loadBefore = loadavg()[0] ?? 0;
  const began = performance.now();
  const sessions: StartedSession[] = [];
  const startMs: number[] = [];
  const failures: string[] = [];
  await pool(Array.from({ length: many }, (_, index) => index), limit, async (index) => {
    try {
      const started = await swarm.manager.start({ workspaceDir: workspace, usePool: false });
      sessions.push(started);
      startMs.push(started.durationMs);
      process.stderr.write(`[bench] ${sessions.length}/${many} ready on ${started.info.node ?? '?'} in ${ms(started.durationMs)}\n`);
    } catch (error) {
      failures.push(`#${index + 1}: ${describeError(error)}`);
      process.stderr.write(`[bench] start #${index + 1} failed: ${describeError(error)}\n`);
    }
  });
  const allReadyMs = performance.now() - began;
  const loadAfterStarts = loadavg().map((value) => value.toFixed(1)).join(' / ');
  const perNode = new Map<string, { count: number; memory: number }>();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  await pool(sessions, 4, async (started) => {
    const node = started.info.node ?? '?';
    const memory = await swarm.manager.backend.memoryUsage(started.info.id);
    const entry = perNode.get(node) ?? { count: 0, memory: 0 };
    entry.count += 1;
    entry.memory += memory;
    perNode.set(node, entry);
  });
  // Every one still usable with all of them up: a command through its node's engine.
  let usable = 0;
  await pool(sessions, 4, async (started) => {
    if ((await started.workstation.exec({ cmd: 'true', timeoutMs: 60_000 })).exitCode === 0) usable += 1;
  });
  const stopBegan = performance.now();
  await pool(sessions, limit, async (started) => {
    await swarm.manager.stopContainer(started.session.id);
  });
  const stopAllMs = performance.now() - stopBegan;
  const tenth = Math.max(1, Math.floor(startMs.length / 10));

  const localSample = summarise(localStarts);
  const swarmSample = summarise(swarmStarts);
  const load = loadavg().map((value) => value.toFixed(1)).join(' / ');
  const body = [
    `${runs} starts per backend, alternated, p50/p95; load average at the end ${load} (1/5/15 min), on a 2-core machine shared with other builds and tests. The swarm is three real dockerd nodes in network namespaces on this one machine (test/fixtures/swarm-cluster.ts), so it shares the CPUs with the local engine: the comparison shows what the swarm path adds, not what separate machines would give. Both are \`SessionManager.start\` on one store: local = container create + start on this engine; swarm = a service created on the manager, its task placed by Swarm, then the VNC password, READY and the no-new-privileges check through the task's node engine and an authenticated VNC handshake to the node's address. Each start is followed by one \`execute\` to prove the session usable.`,
    '',
    '| operation | local p50 | local p95 | swarm p50 | swarm p95 | swarm / local |',
    '| --- | --- | --- | --- | --- | --- |',
    `| session start → ready, cold (image on the node) | ${ms(localSample.p50)} | ${ms(localSample.p95)} | ${ms(swarmSample.p50)} | ${ms(swarmSample.p95)} | ${(swarmSample.p50 / localSample.p50).toFixed(2)}× |`,
    `| session stop (removed; on the swarm: until the task's container is gone from its node) | ${ms(summarise(localStops).p50)} | ${ms(summarise(localStops).p95)} | ${ms(summarise(swarmStops).p50)} | ${ms(summarise(swarmStops).p95)} | ${(summarise(swarmStops).p50 / summarise(localStops).p50).toFixed(2)}× |`,
    '',
    `Where a swarm start's time goes (p50 of the recorded step events): ${Object.entries(swarmSteps)
      .map(([kind, values]) => `${kind} ${ms(summarise(values).p50)}`)
      .join(', ')}. \`workstation-create\` includes Swarm placing the task and the node starting its container (the node tries to pull first and falls back to its local image).`,
    '',
    `${many} sessions on the swarm, ${limit} starts at a time (the server's admission limit here), each reserving ${reserveCpus} CPU and 256 MiB: ${sessions.length} ready${failures.length > 0 ? `, ${failures.length} failed (${failures.slice(0, 3).join('; ')})` : ''}, all in ${ms(allReadyMs)} (load average ${loadBefore.toFixed(1)} before, ${loadAfterStarts} after the starts). One start took ${ms(summarise(startMs).p50)} p50, ${ms(summarise(startMs).p95)} p95; the first ${tenth} ${ms(summarise(startMs.slice(0, tenth)).mean)} on average, the last ${tenth} ${ms(summarise(startMs.slice(-tenth)).mean)}. With all of them up, ${usable} of ${sessions.length} ran a command through their node's engine. Stopped ${limit} at a time in ${ms(stopAllMs)}. Placement and idle memory (sum of the workstations' cgroup usage minus page cache, 5 s after the last start):`,
    '',
    '| node | sessions | workstation memory | per workstation |',
    '| --- | --- | --- | --- |',
    ...[...perNode.entries()].sort().map(([node, entry]) => `| ${node} | ${entry.count} | ${formatBytes(entry.memory)} | ${formatBytes(entry.memory / entry.count)} |`),
    '',
    `Building the cluster (${nodeCount} dockerd nodes, swarm init + joins, the ${formatBytes(cluster.imageLoad?.bytes ?? 0)} image streamed onto all of them at once by \`loadImageOntoNodes\`, as \`nexora image load-nodes\` does) took ${ms(clusterMs)}, of which the image ${ms(cluster.imageLoad?.durationMs ?? 0)}. The nodes are namespaces of this one 2-core host, and each reports the host's ${cpus().length} CPUs to Swarm: with the default reservation of 0.1 CPU a workstation, Swarm's resource filter would admit at most ${Math.floor((nodeCount * cpus().length) / 0.1)} here (nodes × CPUs ÷ reservation) and leave the rest pending (insufficient resources), so for more sessions this benchmark reserves less (not measured at 0.1 past that).`,
  ].join('\n');
  writeSection('swarm', 'Sessions on a Docker Swarm against the local engine', `npx tsx bench/swarm.ts --runs ${runs} --sessions ${many}`, body);
  console.log(body);
  await swarm.close();
  await local.close();
} finally {
  await cluster.dispose();
  await world.dispose();
}
