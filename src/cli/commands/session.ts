import { checkWorkspace } from '../../config/workspace-guard.js';
import type { Command } from 'commander';
import type { StopSessionReply } from '../../client/api-schemas.js';
import type { NexoraClient } from '../../client/nexora-client.js';
import { describeGitChanges } from '../../sessions/git-report-text.js';
import type { ContainerInfo } from '../../sessions/container-info.js';
import { NexoraError } from '../../errors.js';
import { StepPrinter } from '../../output/step-printer.js';
import { formatClock, formatDuration } from '../../output/format.js';
import * as z from '../flag-schemas.js';
import { parseOptions, printTable } from '../parse-options.js';
import { registerSessionDevtools } from './session-devtools.js';
import { withServer } from './server-client.js';
import { inertJson, visibleControls } from '../../visible-controls.js';

export { parseOptions, printTable };

/** A session record as the API returns it (dates as ISO text). */
interface SessionJson {
  id: string;
  status: string;
  statusReason: string | null;
  workspaceDir: string | null;
  vncPort: number | null;
  cdpPort: number | null;
  createdAt: string;
  containerState?: string | null;
  /** Set while the session is parked: when the server stops it. */
  keptUntil?: string | null;
  /** The swarm node the workstation runs on (swarm backend only). */
  node?: string | null;
}

/** The API sends the server's ContainerInfo as it is (every field plain JSON). */
type ContainerInfoJson = ContainerInfo;

export interface StartedJson {
  session: SessionJson;
  info: ContainerInfoJson;
  vnc: string;
  cdp: string;
  fromPool: boolean;
  durationMs: number;
}

interface ReconcileReportJson {
  removedContainers: string[];
  crashedSessions: string[];
  endedSessions: string[];
  restartedSessions: string[];
  releasedPorts: string[];
  expiredPoolMembers: string[];
  stoppedSessions: string[];
}

export function describeReport(report: ReconcileReportJson): string {
  const parts: string[] = [];
  if (report.removedContainers.length) parts.push(`removed ${report.removedContainers.length} orphan container(s)`);
  if (report.crashedSessions.length) parts.push(`marked ${report.crashedSessions.length} session(s) crashed`);
  if (report.endedSessions.length) parts.push(`finished ${report.endedSessions.length} interrupted stop(s)`);
  if (report.restartedSessions.length) parts.push(`restarted ${report.restartedSessions.length} workstation(s)`);
  if (report.releasedPorts.length) parts.push(`released ports of ${report.releasedPorts.length} session(s)`);
  if (report.expiredPoolMembers.length) parts.push(`removed ${report.expiredPoolMembers.length} idle pool member(s)`);
  if (report.stoppedSessions.length) parts.push(`${report.stoppedSessions.length} session(s) with a stopped workstation (nexora session resume <id>)`);
  return parts.join(', ');
}

function age(from: string): string {
  return formatDuration(Date.now() - new Date(from).getTime());
}

const sessionIdText = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/));

function sessionIdArgument(value: string): string {
  if (!sessionIdText.safeParse(value).success) {
    throw new NexoraError('invalid-argument', `"${value.slice(0, 40)}" is not a session id: \`nexora session list\` shows them.`);
  }
  return value;
}

const startOptions = z.object({
  workspace: z.optional(z.string().check(z.minLength(1))),
  user: z.optional(z.string().check(z.regex(/^\d{1,10}(:\d{1,10})?$/, 'use UID:GID, e.g. 1000:1000'))),
  chromium: z.optional(z.boolean()),
  pool: z.optional(z.boolean()),
  json: z.optional(z.boolean()),
});

/**
 * Starts a session through the server, showing its place in the admission queue and each
 * start step as it happens.
 */
export async function startSession(
  client: NexoraClient,
  options: { workspaceDir: string; user?: string; startChromium?: boolean; usePool?: boolean; onProgress?: (line: string) => void; signal?: AbortSignal },
): Promise<StartedJson> {
  let result: StartedJson | undefined;
  let failure: NexoraError | undefined;
  await client.stream(
    'POST',
    '/v1/sessions',
    {
      workspaceDir: options.workspaceDir,
      ...(options.user ? { user: options.user } : {}),
      ...(options.startChromium ? { startChromium: true } : {}),
      ...(options.usePool === false ? { usePool: false } : {}),
    },
    ({ event, data }) => {
      if (event === 'queued') options.onProgress?.(`queued, ${(data as { ahead: number }).ahead} ahead`);
      else if (event === 'progress') options.onProgress?.((data as { step: string }).step);
      else if (event === 'result') result = data as StartedJson;
      else if (event === 'error') {
        const body = data as { error: { code: string; message: string } };
        failure = new NexoraError(body.error.code as NexoraError['code'], body.error.message);
      }
    },
    options.signal ? { signal: options.signal } : {},
  );
  if (failure) throw failure;
  if (!result) throw new NexoraError('server-unavailable', 'The server ended the session start without a result: see `nexora server logs`.');
  return result;
}

export function registerSessionCommand(program: Command): void {
  const session = program.command('session').alias('sessions').description('start, list, stop and inspect sessions and their workstations');

  session
    .command('start')
    .description('start a session: a workstation container with the workspace mounted at /workspace')
    .option('-w, --workspace <dir>', 'the project directory to mount (default: the current directory)')
    .option('--user <uid:gid>', 'run the workstation as this user (default: the workspace owner)')
    .option('--chromium', 'start Chromium now instead of on first use')
    .option('--no-pool', 'do not claim a warm-pool workstation')
    .option('--json', 'print the result as JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(startOptions, raw);
      const printer = new StepPrinter();
      const workspaceDir = checkWorkspace(options.workspace ?? process.cwd());
      await withServer(async (client) => {
        const started = await printer.step(
          'starting the session',
          () =>
            startSession(client, {
              workspaceDir,
              ...(options.user ? { user: options.user } : {}),
              ...(options.chromium ? { startChromium: true } : {}),
              usePool: options.pool !== false,
              onProgress: (step) => printer.progress(step),
            }),
          (value) => (value.fromPool ? 'from the warm pool' : 'cold start'),
        );
        const { info } = started;
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ ...info, vnc: started.vnc, devtools: `nexora session devtools ${info.session}`, fromPool: started.fromPool, durationMs: started.durationMs })}\n`);
        } else {
          process.stdout.write(
            [
              `session   ${info.session}`,
              `workspace ${info.workingDir}`,
              `VNC       ${started.vnc} (password: \`nexora session info ${info.session} --show-password\`)`,
              `DevTools  \`nexora session devtools ${info.session}\` (a token-guarded proxy; Chromium starts on first use)`,
              '',
            ].join('\n'),
          );
        }
      });
    });

  session
    .command('list')
    .description('list sessions: id, status, age, ports, workspace')
    .option('-a, --all', 'include sessions that are over')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ all: z.optional(z.boolean()), json: z.optional(z.boolean()) }), raw);
      await withServer(async (client) => {
        const { sessions } = await client.get<{ sessions: SessionJson[] }>(`/v1/sessions${options.all ? '?all=1' : ''}`);
        if (options.json) {
          process.stdout.write(`${inertJson(sessions)}\n`);
          return;
        }
        if (sessions.length === 0) {
          process.stdout.write('no sessions (start one with `nexora session start`)\n');
          return;
        }
        const rows = sessions.map((item) => [
          item.id,
          item.status + activeState(item),
          age(item.createdAt),
          item.vncPort && (item.status === 'active' || item.status === 'starting') ? `${item.vncPort}/${item.cdpPort ?? '-'}` : '-',
          item.workspaceDir ?? '-',
        ]);
        // A NODE column only on a swarm, where sessions run on several machines.
        if (sessions.some((item) => item.node)) {
          printTable(['ID', 'STATUS', 'AGE', 'VNC/CDP', 'NODE', 'WORKSPACE'], rows.map((row, index) => [...row.slice(0, 4), sessions[index]?.node ?? '-', ...row.slice(4)]));
          return;
        }
        printTable(['ID', 'STATUS', 'AGE', 'VNC/CDP', 'WORKSPACE'], rows);
      });
    });

  session
    .command('info <id>')
    .description('where to connect: the VNC address for a viewer, and how to reach the browser\'s DevTools')
    .option('--show-password', 'print the VNC password in full')
    .option('--json', 'print JSON')
    .action(async (id: string, raw: unknown) => {
      const options = parseOptions(z.object({ showPassword: z.optional(z.boolean()), json: z.optional(z.boolean()) }), raw);
      const sessionId = sessionIdArgument(id);
      await withServer(async (client) => {
        const shown = await client.get<{
          session: SessionJson;
          container: ContainerInfoJson | null;
          vnc: string | null;
          cdp: string | null;
          vncPasswordMasked: string | null;
          vncPassword?: string;
        }>(`/v1/sessions/${sessionId}${options.showPassword ? '?showPassword=1' : ''}`);
        const { session: record, container: info } = shown;
        if (options.json) {
          process.stdout.write(
            `${inertJson({ ...record, container: info, vnc: shown.vnc, devtools: info ? `nexora session devtools ${record.id}` : null, ...(shown.vncPassword ? { vncPassword: shown.vncPassword } : {}) })}\n`,
          );
          return;
        }
        const password = shown.vncPassword ?? (shown.vncPasswordMasked ? `${shown.vncPasswordMasked} (--show-password prints it)` : '-');
        // A status reason can quote the workstation (why it stopped): inert on the terminal.
        process.stdout.write(
          visibleControls([
            `session    ${record.id} (${record.status}${record.statusReason ? `: ${record.statusReason}` : ''})`,
            `created    ${record.createdAt} (${age(record.createdAt)} ago)`,
            `workspace  ${record.workspaceDir ?? '-'}`,
            `container  ${info ? `${info.name} (${info.ready ? 'ready' : 'not ready'})` : '-'}`,
            `VNC        ${shown.vnc ? `vnc://${shown.vnc}` : '-'}`,
            `password   ${password}`,
            `DevTools   ${info ? `not published; \`nexora session devtools ${record.id}\` serves it on 127.0.0.1 behind a token` : '-'}`,
            '',
          ].join('\n')),
        );
      });
    });

  session
    .command('stop <id>')
    .description('end a session: remove its workstation and release its ports; says what the git check moved aside')
    .action(async (id: string) => {
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      const reply = await withServer((client) => printer.step(`stopping ${sessionId}`, () => client.post<unknown>(`/v1/sessions/${sessionId}/stop`, {}, { timeoutMs: 120_000 })));
      // The client path carries zod/mini only: the reply's shape is checked by hand.
      const stopped = isStopReply(reply) ? reply : undefined;
      const git = stopped?.git;
      if (!git) return;
      const text = describeGitChanges(git.changes, { ...git, workspaceDir: stopped.session.workspaceDir ?? 'the workspace' });
      if (text) process.stdout.write(`${text}\n`);
    });

  session
    .command('rm <id>')
    .description('stop a session if it runs, then delete its record and history')
    .action(async (id: string) => {
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      await withServer((client) => printer.step(`removing ${sessionId}`, () => client.delete(`/v1/sessions/${sessionId}`, { timeoutMs: 120_000 })));
    });

  session
    .command('resume <id>')
    .description('reattach to a session, restarting its stopped workstation (same workspace, same ports)')
    .action(async (id: string) => {
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      await withServer(async (client) => {
        const resumed = await printer.step(`resuming ${sessionId}`, () => client.post<StartedJson>(`/v1/sessions/${sessionId}/resume`, {}, { timeoutMs: 180_000 }));
        process.stdout.write(`session ${sessionId} is ready: VNC ${resumed.vnc}\n`);
      });
    });

  registerSessionDevtools(session);

  session
    .command('gc')
    .description('remove orphan containers, finish interrupted starts and stops, release leaked ports')
    .option('--restart-stopped', 'restart stopped workstations of active sessions instead of leaving them for `resume`')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ restartStopped: z.optional(z.boolean()) }), raw);
      const printer = new StepPrinter();
      await withServer(async (client) => {
        const report = await printer.step('reconciling sessions with the Docker engine', () =>
          client.post<ReconcileReportJson>('/v1/sessions/gc', { restartStopped: options.restartStopped === true }, { timeoutMs: 300_000 }),
        );
        process.stdout.write(`${describeReport(report) || 'nothing to clean up'}\n`);
        for (const name of report.removedContainers) process.stdout.write(`removed ${name}\n`);
      });
    });
}

/** How an active session's workstation is: paused and kept until a time, or its container's state when not running. */
function activeState(item: SessionJson): string {
  if (item.status !== 'active') return '';
  if (item.keptUntil) return ` (paused until ${formatClock(new Date(item.keptUntil))})`;
  return item.containerState && item.containerState !== 'running' ? ` (${item.containerState})` : '';
}

/** Whether the server's stop answer has the shape `StopSessionReply` says (its git report's lists). */
function isStopReply(value: unknown): value is StopSessionReply {
  if (typeof value !== 'object' || value === null) return false;
  const { session, git } = value as { session?: unknown; git?: unknown };
  if (typeof session !== 'object' || session === null) return false;
  if (git === null) return true;
  if (typeof git !== 'object' || git === undefined) return false;
  const report = git as Record<string, unknown>;
  return Array.isArray(report.changes) && Array.isArray(report.neutralised) && Array.isArray(report.failed) && typeof report.incomplete === 'boolean';
}
