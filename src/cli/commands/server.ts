import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { connectToServer, homeServerClient } from '../../client/ensure-server.js';
import type { HealthBody } from '../../client/api-schemas.js';
import type { NexoraClient } from '../../client/nexora-client.js';
import { serverFiles } from '../../client/server-files.js';
import { NexoraError, describeError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { formatDuration } from '../../output/format.js';
import { parseOptions } from './session.js';
import { visibleControls } from '../../visible-controls.js';

const serveOptions = z.strictObject({
  port: z.coerce.number().int().min(0).max(65535).optional(),
});

/** `nexora serve` (the server itself) and `nexora server start|stop|status|logs`. */
export function registerServerCommand(program: Command): void {
  program
    .command('serve')
    .description('run the Nexora server in the foreground: it owns the store, sessions, pool and runs; commands are its clients')
    .option('--port <port>', 'also listen on 127.0.0.1:<port> with a bearer token (in server.token in the Nexora home)')
    .action(async (raw: unknown) => {
      const options = parseOptions(serveOptions, raw);
      await serve(options.port);
    });

  const server = program.command('server').description('manage the Nexora server (commands start it when needed)');

  server
    .command('start')
    .description('start the server in the background (nothing happens if one runs)')
    .action(async () => {
      const connected = await connectToServer({ onStart: (line) => process.stderr.write(`nexora: ${line}\n`) });
      connected.client.close();
      process.stdout.write(`${connected.started ? 'started' : 'already running'}: pid ${connected.health.pid}, socket ${serverFiles(nexoraPaths()).socket}\n`);
    });

  server
    .command('stop')
    .description('stop the server; sessions keep running (the next command starts a new server, which adopts them)')
    .option('--stop-sessions', 'also end every active session')
    .action(async (options: { stopSessions?: boolean }) => {
      const { client } = homeServerClient();
      try {
        const health = await client.get<HealthBody>('/v1/health', { timeoutMs: 5000 }).catch(noHealth);
        if (!health) {
          process.stdout.write('no server is running\n');
          return;
        }
        await client.post('/v1/server/stop', { stopSessions: options.stopSessions === true }, { timeoutMs: 10_000 });
        await waitForExit(health.pid, 30_000);
        process.stdout.write(`stopped the server (pid ${health.pid})\n`);
      } finally {
        client.close();
      }
    });

  server
    .command('status')
    .description("whether a server runs: pid, uptime, store, admission queue, memory (RSS and each session's share)")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { client, files } = homeServerClient();
      try {
        let health = await client.get<HealthBody>('/v1/health', { timeoutMs: 5000 }).catch(noHealth);
        // A server that holds the lock but does not answer yet is starting (opening the store): wait for it.
        const starting = health ? undefined : startingPid(files.lock);
        if (starting !== undefined) health = await waitForHealth(client, starting, 180_000);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(health ?? { ok: false })}\n`);
        } else if (!health) {
          process.stdout.write(`not running (socket ${files.socket})\n`);
        } else {
          process.stdout.write(
            [
              `running   pid ${health.pid}, up ${formatDuration(Date.now() - new Date(health.startedAt).getTime())}, version ${health.build}`,
              `socket    ${files.socket}${health.tcp ? `; also http://127.0.0.1:${health.tcp.port} (token in ${files.token})` : ''}`,
              `store     ${health.store.kind} at ${health.store.location}`,
              `starts    ${health.admission.running} running, ${health.admission.waiting} queued, ${health.admission.limit} at once`,
              ...(health.memory ? [`memory    ${formatServerMemory(health.memory)}`] : []),
              `log       ${files.log}`,
              '',
            ].join('\n'),
          );
        }
        if (!health) process.exitCode = 1;
      } finally {
        client.close();
      }
    });

  server
    .command('logs')
    .description("print the end of the server's log")
    .option('-n, --lines <count>', 'how many lines', '50')
    .action((options: { lines: string }) => {
      const lines = z.coerce.number().int().min(1).max(100_000).parse(options.lines);
      const file = serverFiles(nexoraPaths()).log;
      if (!existsSync(file)) {
        process.stdout.write(`no log yet (${file})\n`);
        return;
      }
      // The server writes the log inert; a log from an older version, or edited, may not be.
      process.stdout.write(`${visibleControls(readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'))}\n`);
    });
}

/** The body of `nexora serve`: runs until SIGTERM, SIGINT, `server stop` or the home's removal. */
async function serve(port: number | undefined): Promise<void> {
  (await import('../../server/server-memory.js')).sizeServerHeap();
  const { NexoraServer } = await import('../../server/nexora-server.js');
  const { apiRoutes } = await import('../../server/api-routes.js');
  const { fileLog } = await import('../../server/server-log.js');
  const files = serverFiles(nexoraPaths());
  const log = fileLog({ file: files.log, ...(process.stderr.isTTY ? { echo: process.stderr } : {}) });
  process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  let server;
  try {
    server = await NexoraServer.open({ log, routes: apiRoutes, ...(port !== undefined ? { tcpPort: port } : {}) });
  } catch (error) {
    log.error(`could not start: ${describeError(error)}`);
    // 3: another server has this home (a command starting one at the same time lost the race).
    if (NexoraError.is(error, 'server-running')) {
      process.stderr.write(`nexora: ${visibleControls(error.message)}\n`);
      process.exit(3);
    }
    throw error;
  }
  const stop = (signal: string): void => void server.close({ reason: signal });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined);
  await server.closed;
  // Docker's and the store's sockets may linger a moment; nothing is left to wait for.
  process.exit(0);
}

/** No answer means no server, but a socket refused as not private is said so. */
function noHealth(error: unknown): undefined {
  if (NexoraError.is(error, 'not-private')) throw error;
  return undefined;
}

/** Waits until a process is gone. */
async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new NexoraError('timeout', `The server (pid ${pid}) did not exit within ${Math.round(timeoutMs / 1000)} s: \`kill ${pid}\` ends it (sessions keep running).`);
}

/** The pid in the server lock when that process is alive (a server starting or running). */
function startingPid(lock: string): number | undefined {
  if (!existsSync(lock)) return undefined;
  const pid = Number(readFileSync(lock, 'utf8').trim() || Number.NaN);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Health from a starting server, or undefined when it exits or does not answer in time. */
async function waitForHealth(client: NexoraClient, pid: number, timeoutMs: number): Promise<HealthBody | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = await client.get<HealthBody>('/v1/health', { timeoutMs: 5000 }).catch(noHealth);
    if (health) return health;
    try {
      process.kill(pid, 0);
    } catch {
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** One line for `nexora server status`. */
function formatServerMemory(memory: NonNullable<HealthBody['memory']>): string {
  const share = memory.activeSessions > 0 ? `, ${mib(memory.perSessionBytes)} per active session (${memory.activeSessions})` : ', no active session';
  const channels = memory.channels.sessions > 0 ? `; tool channels open for ${memory.channels.sessions} (framebuffers ${mib(memory.channels.framebufferBytes)})` : '';
  return `${mib(memory.rssBytes)} RSS (${mib(memory.readyRssBytes)} at start)${share}${channels}`;
}
