import type { Command } from 'commander';
import { z } from 'zod';
import { trustStorePath } from '../../config/trust-store.js';
import { listTrusted, revokeWorkspace, trustWorkspace } from '../../config/trust-workspace.js';
import { NexoraError } from '../../errors.js';
import { parseOptions, printTable } from './session.js';
import { inertJson, visibleControls } from '../../visible-controls.js';

const trustOptions = z.strictObject({
  workspace: z.string().min(1),
  list: z.boolean().optional(),
  revoke: z.boolean().optional(),
  json: z.boolean().optional(),
});

/** `nexora trust`: let a workspace's nexora.json choose endpoints and credentials, pinned to its content. */
export function registerTrustCommand(program: Command): void {
  program
    .command('trust')
    .description("trust the workspace's nexora.json as it is now, so it may set endpoints, credentials and guardrails (pinned by content hash)")
    .option('-w, --workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--list', 'list trusted files and whether they changed since')
    .option('--revoke', "stop trusting the workspace's nexora.json")
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(trustOptions, raw);
      if (options.list && options.revoke) throw new NexoraError('invalid-argument', '--list and --revoke do not go together: pick one.');
      const storePath = trustStorePath();
      if (options.list) {
        const entries = await listTrusted(storePath);
        if (options.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        else if (entries.length === 0) process.stdout.write('No workspace config is trusted.\n');
        else printTable(['FILE', 'STATE', 'TRUSTED AT', 'SHA-256'], entries.map((entry) => [entry.file, entry.state, entry.trustedAt, `${entry.sha256.slice(0, 12)}…`]));
        return;
      }
      if (options.revoke) {
        const { file, removed } = await revokeWorkspace({ workspace: options.workspace, storePath });
        process.stdout.write(removed ? `No longer trusted: ${file}\n` : `${file} was not trusted.\n`);
        return;
      }
      const trusted = await trustWorkspace({ workspace: options.workspace, storePath });
      if (options.json) {
        process.stdout.write(`${inertJson(trusted, { indent: 2 })}\n`);
        return;
      }
      process.stdout.write(`Trusted ${trusted.entry.file} (sha256 ${trusted.entry.sha256.slice(0, 12)}…) as it is now; any change to it needs a new \`nexora trust\`.\n`);
      if (trusted.fields.length === 0) process.stdout.write('It sets no restricted field.\n');
      else {
        process.stdout.write('It may now set:\n');
        // The person reviews these values here: a hidden character must not disguise an endpoint.
        for (const { field, value } of trusted.fields) process.stdout.write(`  ${visibleControls(`${field} = ${value}`, { oneLine: true })}\n`);
      }
    });
}
