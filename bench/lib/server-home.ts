import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NexoraClient } from '../../src/client/nexora-client.js';
import { serverFiles } from '../../src/client/server-files.js';
import type Docker from 'dockerode';
import { cliPath } from '../../test/fixtures/run-cli.js';

const run = promisify(execFile);

/**
 * A Nexora home of a benchmark's own, with a server running on it: its containers, network and
 * names labelled with the run's id, a workspace owned by uid 1000. `dispose` stops the server
 * and removes everything the run made.
 */
export interface BenchServer {
  runId: string;
  workspace: string;
  env: NodeJS.ProcessEnv;
  /** The server's socket (a client of its own per caller: one client keeps at most 16 connections). */
  socket: string;
  client: NexoraClient;
  /** The run's containers (all states). */
  containers(): ReturnType<Docker['listContainers']>;
  dispose(): Promise<void>;
}

export async function startBenchServer(options: { name: string; docker: Docker; env?: NodeJS.ProcessEnv }): Promise<BenchServer> {
  const root = mkdtempSync(join(tmpdir(), `nexora-bench-${options.name}-`));
  const runId = `bench-${options.name}-${randomBytes(3).toString('hex')}`;
  const workspace = join(root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, 1000, 1000);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_NETWORK_NAME: `nexora-net-${runId}`,
    ...options.env,
  };
  const containers = (): ReturnType<Docker['listContainers']> => options.docker.listContainers({ all: true, filters: { label: [`dev.nexora.testrun=${runId}`] } });
  const socket = serverFiles({ home: join(root, 'home'), logs: join(root, 'home', 'logs') }).socket;
  const client = new NexoraClient({ socketPath: socket });
  const dispose = async (): Promise<void> => {
    client.close();
    await run(process.execPath, [cliPath, 'server', 'stop'], { env }).catch(() => undefined);
    for (const container of await containers()) await options.docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
    await options.docker.getNetwork(`nexora-net-${runId}`).remove().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const started = await run(process.execPath, [cliPath, 'server', 'start'], { env });
    process.stderr.write(started.stdout);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { runId, workspace, env, socket, client, containers, dispose };
}
