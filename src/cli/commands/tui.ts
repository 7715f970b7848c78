import type { Command } from 'commander';
import { render } from 'ink';
import { createElement } from 'react';
import { z } from 'zod';
import { approvalModes } from '../../agent/approval-mode.js';
import { connectToServer } from '../../client/ensure-server.js';
import { loadConfig } from '../../config/load-config.js';
import { checkWorkspace } from '../../config/workspace-guard.js';
import { NexoraError } from '../../errors.js';
import { parseSessionId } from '../../store/session-id.js';
import { App } from '../../tui/app.js';
import { colorEnabled } from '../../tui/theme.js';
import { parseOptions } from '../parse-options.js';
import { ServerTuiHost } from './tui-client.js';
import { visibleControls } from '../../visible-controls.js';

const tuiOptions = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
  workspace: z.string().min(1),
  session: z.string().optional(),
  open: z.boolean().optional(),
  approve: z.enum(approvalModes).optional(),
});
type TuiOptions = z.infer<typeof tuiOptions>;

/** `nexora` with no command (or `nexora tui`): the interactive terminal UI. */
export function registerTuiCommand(program: Command): void {
  program
    .command('tui', { isDefault: true })
    .description('the interactive terminal UI (what `nexora` with no command opens)')
    .option('--model <provider/model>', 'the model to start with (default: "model" in nexora.json)')
    .option('--workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--session <id>', 'resume an active session instead of starting a new one on the first task')
    .option('--no-open', 'print the web view address for /view instead of opening a browser')
    .option('--approve <mode>', `which commands need your yes first: ${approvalModes.join(', ')} (default: agent.approve in the config, else risky)`)
    .action(async (raw: unknown) => {
      const options = parseOptions(tuiOptions, raw);
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        throw new NexoraError('invalid-argument', 'The interactive UI needs a terminal. In scripts and pipes, use `nexora run "task"`.');
      }
      await runTui(options);
    });
}

async function runTui(options: TuiOptions): Promise<void> {
  const workspace = checkWorkspace(options.workspace);
  const { config } = await loadConfig({ workspace });
  // The TUI is a client of the home's server (started in the background when none runs):
  // runs, sessions and the store live there, beside the CLI, the web view and MCP clients.
  const { client } = await connectToServer({ onStart: (line) => process.stderr.write(`nexora: ${line}\n`) });
  const host = new ServerTuiHost(client, { workspace, model: options.model ?? config.model, openBrowser: options.open !== false, approve: options.approve ?? config.agent.approve });
  try {
    await host.open(options.session !== undefined ? parseSessionId(options.session) : undefined);
    const app = render(createElement(App, { host, color: colorEnabled(), ...(host.sessionId ? { sessionId: host.sessionId } : {}), ...(host.model ? { model: host.model } : {}) }), {
      exitOnCtrlC: false,
    });
    await app.waitUntilExit();
    const gitWarning = await host.gitWarning();
    if (gitWarning) process.stdout.write(`${visibleControls(gitWarning)}\n`);
    if (host.keptSessionId) process.stdout.write(`Session ${host.keptSessionId} is still running: continue with \`nexora --session ${host.keptSessionId}\` (or stop it with \`nexora session stop ${host.keptSessionId}\`).\n`);
  } finally {
    client.close();
  }
}
