import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { maskConfig, maskValue } from '../../config/mask-config.js';
import { NexoraError, describeError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { providerPresets } from '../../providers/provider-kinds.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { MasterKeyStore, ProviderKeyStore } from '../../secrets/index.js';
import { openCliDatabase } from './db.js';
import { inertJson } from '../../visible-controls.js';

/** `nexora config show`: the effective configuration, secrets masked, and where keys come from. */
export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('inspect the configuration (nexora.json in the workspace over ~/.nexora/config.json)');
  config
    .command('show')
    .description('print the effective configuration with secrets masked')
    .option('--workspace <dir>', 'workspace whose nexora.json to read', process.cwd())
    .option('--json', 'print JSON only')
    .action(async (options: { workspace: string; json?: boolean }) => {
      await showConfig(options);
    });
}

async function showConfig(options: { workspace: string; json?: boolean }): Promise<void> {
  const workspace = resolve(options.workspace);
  // A missing workspace would otherwise show the user config alone, as if the workspace had none.
  if (!statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NexoraError('invalid-argument', `Invalid --workspace: ${workspace} is not a directory.`);
  }
  const { config, sources } = await loadConfig({ workspace });
  // Keys in the encrypted store count too; if the store cannot be opened, say so and go on.
  let note: string | undefined;
  // A running server holds the store: ask it (it shows only the last four characters).
  const fromServer = await serverKeySource();
  const db = fromServer ? undefined : await openCliDatabase().catch((error: unknown) => {
    note = `the encrypted key store could not be read (${describeError(error)}); the keys shown come from the environment and the config only`;
    return undefined;
  });
  let keys: Record<string, string>;
  try {
    const keyStore = fromServer ?? (db ? new ProviderKeyStore({ db, masterKeys: new MasterKeyStore(nexoraPaths()) }) : undefined);
    const registry = new ProviderRegistry({ providers: config.providers, models: config.models, ...(keyStore ? { keys: keyStore } : {}) });
    keys = await describeKeys(registry, [...new Set([...Object.keys(providerPresets), ...Object.keys(config.providers)])]);
  } finally {
    await db?.close();
  }
  const output = { sources, config: maskConfig(config), keys };
  if (options.json) {
    process.stdout.write(`${inertJson(output, { indent: 2 })}\n`);
  } else {
    process.stdout.write(`# files read (later wins): ${sources.length > 0 ? sources.join(', ') : 'none (defaults only)'}\n`);
    // The workspace's nexora.json is untrusted: its strings must not act on the terminal.
    process.stdout.write(`${inertJson(output.config, { indent: 2 })}\n# API keys\n`);
    for (const [name, status] of Object.entries(keys)) process.stdout.write(`${name.padEnd(12)} ${status}\n`);
  }
  if (note) process.stderr.write(`note: ${note}\n`);
}

/**
 * The stored keys as a running server lists them, standing in for the key store: each key is
 * its last four characters behind a filler, which is all `config show` prints of it.
 */
async function serverKeySource(): Promise<{ getApiKey(provider: string): Promise<string | undefined> } | undefined> {
  const { connectToServer } = await import('../../client/ensure-server.js');
  const connected = await connectToServer({ autoStart: false }).catch(() => undefined);
  if (!connected) return undefined;
  try {
    const { keys } = await connected.client.get<{ keys: { provider: string; key: string; expired: boolean }[] }>('/v1/keys');
    return {
      getApiKey: (provider) => {
        const found = keys.find((entry) => entry.provider === provider && !entry.expired);
        return Promise.resolve(found ? `${'•'.repeat(8)}${found.key.slice(-4)}` : undefined);
      },
    };
  } finally {
    connected.client.close();
  }
}

/** Per provider: where its key comes from (masked), or how to add one. */
async function describeKeys(registry: ProviderRegistry, names: string[]): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of names) {
    const settings = registry.settingsFor(name);
    try {
      const { key, source } = await registry.apiKeyFor(name);
      result[name] = key
        ? `${source} ${maskValue(key)}`
        : settings?.keyOptional
          ? 'not needed'
          : `none (export ${settings?.apiKeyEnv ?? '…'} or run \`nexora keys add ${name}\`)`;
    } catch (error) {
      // An expired stored key, say: shown, not fatal.
      result[name] = `error: ${describeError(error)}`;
    }
  }
  return result;
}
