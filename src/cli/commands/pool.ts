import { resolve } from 'node:path';
import { checkWorkspace } from '../../config/workspace-guard.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { drainPool, poolStatus, warmPool } from '../../sessions/warm-pool.js';
import { parseNumericUser } from '../../workstation/docker/workspace-owner.js';
import { StepPrinter, formatDuration } from '../output.js';
import { parseOptions, printTable, withSessionManager } from './session.js';

const warmOptions = z.object({
  workspace: z.string().min(1).optional(),
  size: z.coerce.number().int().min(1).max(100).optional(),
  idleTimeout: z.coerce.number().int().min(10).optional(),
  user: z.string().optional(),
  chromium: z.boolean().optional(),
});

export function registerPoolCommand(program: Command): void {
  const pool = program.command('pool').description('pre-started workstations that make `session start` nearly instant');

  pool
    .command('warm')
    .description('start paused workstations for a workspace, up to the pool size')
    .option('-w, --workspace <dir>', 'the project directory (default: the current directory)')
    .option('-n, --size <count>', 'how many to keep (default: NEXORA_POOL_SIZE, else 1)')
    .option('--idle-timeout <seconds>', 'remove unclaimed ones after this long (default: NEXORA_POOL_IDLE_TIMEOUT, else 1800)')
    .option('--user <uid:gid>', 'run them as this user (default: the workspace owner)')
    .option('--chromium', 'start Chromium in them too')
    .action(async (raw: unknown) => {
      const options = parseOptions(warmOptions, raw);
      const printer = new StepPrinter();
      const workspaceDir = checkWorkspace(options.workspace ?? process.cwd());
      const user = options.user ? parseNumericUser(options.user) : undefined;
      await withSessionManager(printer, async ({ manager, config }) => {
        const size = options.size ?? (config.poolSize || 1);
        const added = await printer.step(
          `warming ${size} workstation(s) for ${workspaceDir}`,
          () =>
            warmPool(manager, {
              workspaceDir,
              size,
              idleTimeoutMs: options.idleTimeout !== undefined ? options.idleTimeout * 1000 : config.poolIdleTimeoutMs,
              ...(user ? { user } : {}),
              ...(options.chromium ? { startChromium: true } : {}),
              onProgress: (line) => printer.progress(line),
            }),
          (ids) => `${ids.length} added`,
        );
        process.stdout.write(`${added.length} added; the pool for ${workspaceDir} holds ${size}\n`);
      });
    });

  pool
    .command('status')
    .description('list the pooled workstations')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ json: z.boolean().optional() }), raw);
      const printer = new StepPrinter();
      await withSessionManager(printer, async ({ manager }) => {
        const members = await poolStatus(manager);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(members)}\n`);
          return;
        }
        if (members.length === 0) {
          process.stdout.write('the warm pool is empty (fill it with `nexora pool warm --workspace DIR`)\n');
          return;
        }
        printTable(
          ['ID', 'STATE', 'VNC/CDP', 'EXPIRES IN', 'WORKSPACE'],
          members.map((member) => [
            member.sessionId,
            member.ready ? 'ready (paused)' : member.state,
            member.vncPort ? `${member.vncPort}/${member.cdpPort ?? '-'}` : '-',
            member.expiresAt ? formatDuration(Math.max(member.expiresAt.getTime() - Date.now(), 0)) : '-',
            member.workspaceDir,
          ]),
        );
      });
    });

  pool
    .command('drain')
    .description('remove pooled workstations and release their ports')
    .option('-w, --workspace <dir>', 'only this workspace’s pool')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ workspace: z.string().min(1).optional() }), raw);
      const printer = new StepPrinter();
      await withSessionManager(printer, async ({ manager }) => {
        const drained = await printer.step('draining the warm pool', () =>
          drainPool(manager, options.workspace ? { workspaceDir: resolve(options.workspace) } : {}),
        );
        process.stdout.write(`removed ${drained.length} pooled workstation(s)\n`);
      });
    });
}
