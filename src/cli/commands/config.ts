import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { maskConfig, maskValue } from '../../config/mask-config.js';
import { providerPresets } from '../../providers/provider-kinds.js';
import { ProviderRegistry } from '../../providers/registry.js';

/** `nexora config show`: the effective configuration, secrets masked, and where keys come from. */
export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('Inspect the configuration (nexora.json in the workspace over ~/.nexora/config.json)');
  config
    .command('show')
    .description('Print the effective configuration with secrets masked')
    .option('--workspace <dir>', 'workspace whose nexora.json to read', process.cwd())
    .option('--json', 'print JSON only')
    .action(async (options: { workspace: string; json?: boolean }) => {
      const { config: effective, sources } = await loadConfig({ workspace: options.workspace });
      const registry = new ProviderRegistry({ providers: effective.providers, models: effective.models });
      const names = [...new Set([...Object.keys(providerPresets), ...Object.keys(effective.providers)])];
      const keys: Record<string, string> = {};
      for (const name of names) {
        const { key, source } = await registry.apiKeyFor(name);
        const settings = registry.settingsFor(name);
        keys[name] = key ? `${source} ${maskValue(key)}` : settings?.keyOptional ? 'not needed' : `none (export ${settings?.apiKeyEnv ?? '…'} or run \`nexora keys add ${name}\`)`;
      }
      const output = { sources, config: maskConfig(effective), keys };
      if (options.json) {
        process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
        return;
      }
      process.stdout.write(`# files read (later wins): ${sources.length > 0 ? sources.join(', ') : 'none (defaults only)'}\n`);
      process.stdout.write(`${JSON.stringify(output.config, null, 2)}\n# API keys\n`);
      for (const [name, status] of Object.entries(keys)) process.stdout.write(`${name.padEnd(12)} ${status}\n`);
    });
}
