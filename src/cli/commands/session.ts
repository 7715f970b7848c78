import { checkWorkspace } from '../../config/workspace-guard.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import { openSessionManager, type OpenedSessionManager } from '../../sessions/open-session-manager.js';
import type { ReconcileReport } from '../../sessions/reconcile.js';
import { maskPassword } from '../../sessions/vnc-password.js';
import { warmPool } from '../../sessions/warm-pool.js';
import { parseSessionId } from '../../store/index.js';
import { parseNumericUser } from '../../workstation/docker/workspace-owner.js';
import { StepPrinter, formatDuration } from '../output.js';
import { registerSessionDevtools } from './session-devtools.js';

/**
 * Opens the session manager and reconciles first (every command that manages sessions
 * does), printing what the clean-up changed.
 */
export async function withSessionManager<T>(printer: StepPrinter, run: (opened: OpenedSessionManager) => Promise<T>): Promise<T> {
  const opened = await printer.step('opening the session store and Docker', () => openSessionManager());
  try {
    const report = await opened.manager.reconcile();
    const summary = describeReport(report);
    if (summary) printer.info(`reconciled: ${summary}`);
    return await run(opened);
  } finally {
    await opened.close();
  }
}

export function describeReport(report: ReconcileReport): string {
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

function age(from: Date): string {
  return formatDuration(Date.now() - from.getTime());
}

const startOptions = z.object({
  workspace: z.string().min(1).optional(),
  user: z.string().optional(),
  chromium: z.boolean().optional(),
  pool: z.boolean().optional(),
  json: z.boolean().optional(),
});

function sessionIdArgument(value: string): ReturnType<typeof parseSessionId> {
  return parseSessionId(value);
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
      const user = options.user ? parseNumericUser(options.user) : undefined;
      await withSessionManager(printer, async ({ manager, config }) => {
        const started = await printer.step(
          'starting the session',
          () =>
            manager.start({
              workspaceDir,
              ...(user ? { user } : {}),
              ...(options.chromium ? { startChromium: true } : {}),
              usePool: options.pool !== false,
              onProgress: (step) => printer.progress(step),
            }),
          (value) => (value.fromPool ? 'from the warm pool' : 'cold start'),
        );
        const { info } = started;
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ ...info, vnc: `127.0.0.1:${info.vncPort}`, devtools: `nexora session devtools ${info.session}`, fromPool: started.fromPool, durationMs: Math.round(started.durationMs) })}\n`);
        } else {
          process.stdout.write(
            [
              `session   ${info.session}`,
              `workspace ${info.workingDir}`,
              `VNC       ${started.workstation.rfb().host}:${info.vncPort} (password: \`nexora session info ${info.session} --show-password\`)`,
              `DevTools  \`nexora session devtools ${info.session}\` (a token-guarded proxy; Chromium starts on first use)`,
              '',
            ].join('\n'),
          );
        }
        if (config.poolSize > 0) {
          await printer.step(`refilling the warm pool to ${config.poolSize}`, () =>
            warmPool(manager, { workspaceDir, size: config.poolSize, idleTimeoutMs: config.poolIdleTimeoutMs, ...(user ? { user } : {}) }),
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
      const options = parseOptions(z.object({ all: z.boolean().optional(), json: z.boolean().optional() }), raw);
      const printer = new StepPrinter();
      await withSessionManager(printer, async ({ manager }) => {
        const summaries = await manager.list({ all: options.all === true });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(summaries.map(({ session, container }) => ({ ...session, containerState: container?.state ?? null })))}\n`);
          return;
        }
        if (summaries.length === 0) {
          process.stdout.write('no sessions (start one with `nexora session start`)\n');
          return;
        }
        const rows = summaries.map(({ session, container }) => [
          session.id,
          session.status + (session.status === 'active' && container && container.state !== 'running' ? ` (${container.state})` : ''),
          age(session.createdAt),
          session.vncPort && (session.status === 'active' || session.status === 'starting') ? `${session.vncPort}/${session.cdpPort ?? '-'}` : '-',
          session.workspaceDir ?? '-',
        ]);
        printTable(['ID', 'STATUS', 'AGE', 'VNC/CDP', 'WORKSPACE'], rows);
      });
    });

  session
    .command('info <id>')
    .description('where to connect: the VNC address for a viewer, and how to reach the browser\'s DevTools')
    .option('--show-password', 'print the VNC password in full')
    .option('--json', 'print JSON')
    .action(async (id: string, raw: unknown) => {
      const options = parseOptions(z.object({ showPassword: z.boolean().optional(), json: z.boolean().optional() }), raw);
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      await withSessionManager(printer, async ({ manager }) => {
        const session = await manager.sessions.get(sessionId);
        const info = await manager.getContainer(sessionId);
        const password = session.status === 'active' ? await manager.vncPassword(sessionId) : undefined;
        const shown = password === undefined ? '-' : options.showPassword ? password : `${maskPassword(password)} (--show-password prints it)`;
        const host = manager.backend.endpointHost;
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ ...session, container: info ?? null, vnc: info ? `${host}:${info.vncPort}` : null, devtools: info ? `nexora session devtools ${session.id}` : null, ...(options.showPassword && password ? { vncPassword: password } : {}) })}\n`,
          );
          return;
        }
        process.stdout.write(
          [
            `session    ${session.id} (${session.status}${session.statusReason ? `: ${session.statusReason}` : ''})`,
            `created    ${session.createdAt.toISOString()} (${age(session.createdAt)} ago)`,
            `workspace  ${session.workspaceDir ?? '-'}`,
            `container  ${info ? `${info.name} (${info.ready ? 'ready' : 'not ready'})` : '-'}`,
            `VNC        ${info ? `vnc://${host}:${info.vncPort}` : '-'}`,
            `password   ${shown}`,
            `DevTools   ${info ? `not published; \`nexora session devtools ${session.id}\` serves it on 127.0.0.1:${info.cdpPort} behind a token` : '-'}`,
            '',
          ].join('\n'),
        );
      });
    });

  session
    .command('stop <id>')
    .description('end a session: remove its workstation and release its ports')
    .action(async (id: string) => {
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      await withSessionManager(printer, ({ manager }) => printer.step(`stopping ${sessionId}`, () => manager.stopContainer(sessionId)));
    });

  session
    .command('rm <id>')
    .description('stop a session if it runs, then delete its record and history')
    .action(async (id: string) => {
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      await withSessionManager(printer, ({ manager }) => printer.step(`removing ${sessionId}`, () => manager.remove(sessionId)));
    });

  session
    .command('resume <id>')
    .description("reattach to a session, restarting its stopped workstation (same workspace, same ports)")
    .action(async (id: string) => {
      const sessionId = sessionIdArgument(id);
      const printer = new StepPrinter();
      await withSessionManager(printer, async ({ manager }) => {
        const resumed = await printer.step(`resuming ${sessionId}`, () => manager.resume(sessionId, { onProgress: (step) => printer.progress(step) }));
        process.stdout.write(`session ${sessionId} is ready: VNC ${resumed.workstation.rfb().host}:${resumed.info.vncPort}\n`);
      });
    });

  registerSessionDevtools(session, withSessionManager);

  session
    .command('gc')
    .description('remove orphan containers, finish interrupted starts and stops, release leaked ports')
    .option('--restart-stopped', 'restart stopped workstations of active sessions instead of leaving them for `resume`')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ restartStopped: z.boolean().optional() }), raw);
      const printer = new StepPrinter();
      const opened = await printer.step('opening the session store and Docker', () => openSessionManager());
      try {
        const report = await printer.step('reconciling sessions with the Docker engine', () =>
          opened.manager.reconcile({ onStopped: options.restartStopped ? 'restart' : 'keep' }),
        );
        process.stdout.write(`${describeReport(report) || 'nothing to clean up'}\n`);
        for (const name of report.removedContainers) process.stdout.write(`removed ${name}\n`);
      } finally {
        await opened.close();
      }
    });
}

/** Validates commander's parsed options; bad input is an 'invalid-argument' error. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NexoraError('invalid-argument', `--${String(issue?.path[0] ?? 'option')}: ${issue?.message ?? 'invalid'}. See --help.`);
  }
  return parsed.data;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
