import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { approvalModes } from '../../agent/approval-mode.js';
import { parseOptions } from '../parse-options.js';
import { visibleControls } from '../../visible-controls.js';

const mcpOptions = z.object({
  workspace: z.string().min(1).optional(),
  session: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a session id such as ses_…').optional(),
  keep: z.boolean().optional(),
  approve: z.enum(approvalModes, { message: 'use never, risky or always' }).optional(),
});

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('an MCP server on stdio for other agents (Claude Code, Codex, Cursor): a workstation per client, stopped when it disconnects')
    .option('-w, --workspace <dir>', "the project to mount at /workspace (default: the client's root, else the current directory)")
    .option('--session <id>', 'attach to this running session instead of starting one (it is not stopped)')
    .option('--keep', 'leave the session running when the client disconnects')
    .option('--approve <mode>', "which of the model's calls need a yes, asked through the client (never|risky|always; default: agent.approve of your config, else risky)")
    .action(async (raw: unknown) => {
      const options = parseOptions(mcpOptions, raw);
      const { runStdioMcp } = await import('../../mcp/stdio-server.js');
      // The policy is the user's (their own config), as for `nexora run`: never a workspace file's.
      const approve = options.approve ?? (await import('../../config/load-config.js').then(({ loadConfig }) => loadConfig({}))).config.agent.approve;
      await runStdioMcp({
        cwd: process.cwd(),
        ...(options.workspace ? { workspace: resolve(options.workspace) } : {}),
        ...(options.session ? { sessionId: options.session } : {}),
        ...(options.keep ? { keep: true } : {}),
        approve,
        // stdout carries the protocol: everything else goes to stderr.
        log: (line) => process.stderr.write(`nexora mcp: ${visibleControls(line)}\n`),
      });
      // Stopped by a signal, stdin may still be open: let the process end.
      process.stdin.destroy();
    });
}
