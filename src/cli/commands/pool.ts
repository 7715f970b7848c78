import { resolve } from 'node:path';
import { checkWorkspace } from '../../config/workspace-guard.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { StepPrinter } from '../../output/step-printer.js';
import { formatDuration } from '../../output/format.js';
import { parseOptions, printTable } from '../parse-options.js';
import { withServer } from './server-client.js';

const warmOptions = z.object({
  workspace: z.string().min(1).optional(),
  size: z.coerce.number().int().min(1).max(100).optional(),
  idleTimeout: z.coerce.number().int().min(10).optional(),
  user: z.string().regex(/^\d{1,10}(:\d{1,10})?$/, 'use UID:GID, e.g. 1000:1000').optional(),
  chromium: z.boolean().optional(),
});

interface PoolMemberJson {
  sessionId: string;
  workspaceDir: string;
  state: string;
  ready: boolean;
  vncPort: number | null;
  cdpPort: number | null;
  expiresAt: string | null;
}

export function registerPoolCommand(program: Command): void {
  const pool = program.command('pool').description('pre-started workstations that make `session start` nearly instant');

  pool
    .command('warm')
    .description('start paused workstations for a workspace, up to the pool size; the server keeps it full while it is used')
    .option('-w, --workspace <dir>', 'the project directory (default: the current directory)')
    .option('-n, --size <count>', 'how many to keep (default: NEXORA_POOL_SIZE, else 1)')
    .option('--idle-timeout <seconds>', 'remove unclaimed ones after this long (default: NEXORA_POOL_IDLE_TIMEOUT, else 1800)')
    .option('--user <uid:gid>', 'run them as this user (default: the workspace owner)')
    .option('--chromium', 'start Chromium in them too')
    .action(async (raw: unknown) => {
      const options = parseOptions(warmOptions, raw);
      const printer = new StepPrinter();
      const workspaceDir = checkWorkspace(options.workspace ?? process.cwd());
      await withServer(async (client) => {
        const warmed = await printer.step(
          `warming workstation(s) for ${workspaceDir}`,
          () =>
            client.post<{ added: string[]; size: number }>(
              '/v1/pool/warm',
              {
                workspaceDir,
                ...(options.size !== undefined ? { size: options.size } : {}),
                ...(options.idleTimeout !== undefined ? { idleTimeoutMs: options.idleTimeout * 1000 } : {}),
                ...(options.user ? { user: options.user } : {}),
                ...(options.chromium ? { startChromium: true } : {}),
              },
              { timeoutMs: 600_000 },
            ),
          (value) => `${value.added.length} added`,
        );
        process.stdout.write(`${warmed.added.length} added; the pool for ${workspaceDir} holds ${warmed.size}\n`);
      });
    });

  pool
    .command('status')
    .description('list the pooled workstations')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ json: z.boolean().optional() }), raw);
      await withServer(async (client) => {
        const { members } = await client.get<{ members: PoolMemberJson[] }>('/v1/pool');
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
            member.expiresAt ? formatDuration(Math.max(new Date(member.expiresAt).getTime() - Date.now(), 0)) : '-',
            member.workspaceDir,
          ]),
        );
      });
    });

  pool
    .command('drain')
    .description('remove pooled workstations and release their ports (the server stops refilling them)')
    .option('-w, --workspace <dir>', 'only this workspace’s pool')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ workspace: z.string().min(1).optional() }), raw);
      const printer = new StepPrinter();
      await withServer(async (client) => {
        const { drained } = await printer.step('draining the warm pool', () =>
          client.post<{ drained: string[] }>('/v1/pool/drain', options.workspace ? { workspaceDir: resolve(options.workspace) } : {}, { timeoutMs: 300_000 }),
        );
        process.stdout.write(`removed ${drained.length} pooled workstation(s)\n`);
      });
    });
}
