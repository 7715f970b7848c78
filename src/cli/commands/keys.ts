import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { NexoraError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { providerPresets } from '../../providers/provider-kinds.js';
import { providerKeyFromJson, providerKeyJson, providerNameSchema, type ProviderKeyInfo, type ProviderKeyJson, type RotationResult } from '../../secrets/index.js';
import { closestMatch } from '../suggest.js';
import { withServer } from './server-client.js';

/** `nexora keys set|list|rm|rotate`: provider API keys, encrypted with the master key. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('provider API keys, stored encrypted (AES-256-GCM) with the master key in ~/.nexora/secrets');

  keys
    .command('set')
    .alias('add')
    .description('store a provider key, read from a hidden prompt or from stdin (never from the command line)')
    .argument('<provider>', 'provider name, e.g. openai, anthropic')
    .option('--expires <when>', 'when the key expires: a date (2027-01-31), a date and time, or a duration (90d, 12h, 4w)')
    // Accepted only to refuse them with a useful message instead of commander's.
    .allowExcessArguments(true)
    .action(async (provider: string, options: { expires?: string }, command: Command) => {
      if (command.args.length > 1) {
        // Never echo what was passed: it is most likely the key itself.
        throw new NexoraError(
          'invalid-argument',
          `An API key is not accepted on the command line, where shell history and \`ps\` would keep it. Run \`nexora keys set ${safeName(provider)}\` and paste it at the hidden prompt, or pipe it: \`printf %s "$KEY" | nexora keys set ${safeName(provider)}\`.`,
        );
      }
      const name = parseProvider(provider);
      // Before the prompt: a typo in the name should not cost a paste.
      const { minimumLength } = await knownProvider(name);
      const expiresAt = options.expires === undefined ? null : parseExpiry(options.expires);
      const apiKey = process.stdin.isTTY ? await promptHidden(`API key for ${name} (input hidden): `) : await readStdinKey(name);
      if (apiKey.length < minimumLength) {
        // Never echo what arrived: say only how long it was.
        throw new NexoraError(
          'invalid-argument',
          `That key is ${apiKey.length} character${apiKey.length === 1 ? '' : 's'} long, too short to be an API key for ${name} (at least ${minimumLength} expected): paste the whole key. Nothing was stored.`,
        );
      }
      await withKeyStore(async (store) => {
        const info = await store.set(name, apiKey, { expiresAt });
        process.stdout.write(`Stored the ${name} key ${info.masked}${info.expiresAt ? `, expiring ${formatDate(info.expiresAt)}` : ''}.\n`);
      });
    });

  keys
    .command('list')
    .alias('ls')
    .description('list stored keys: provider, last four characters, created, updated, expiry')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withKeyStore(async (store) => {
        const rows = await store.list();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows.map(providerKeyJson), null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('No keys stored. Add one with `nexora keys set <provider>`.\n');
          return;
        }
        const table = [['PROVIDER', 'KEY', 'CREATED', 'UPDATED', 'EXPIRES'], ...rows.map(toRow)];
        const widths = table[0]?.map((_, column) => Math.max(...table.map((row) => row[column]?.length ?? 0))) ?? [];
        for (const row of table) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}\n`);
        const problem = rows.find((row) => row.problem)?.problem;
        if (problem) process.stderr.write(`Some keys cannot be decrypted: ${problem}\n`);
      });
    });

  keys
    .command('rm')
    .alias('remove')
    .description('delete a stored key')
    .argument('<provider>', 'provider name')
    .action(async (provider: string) => {
      const name = parseProvider(provider);
      await withKeyStore(async (store) => {
        if (!(await store.remove(name))) {
          throw new NexoraError('secret-not-found', `No key is stored for ${name}: \`nexora keys list\` shows the stored ones.`);
        }
        process.stdout.write(`Removed the ${name} key.\n`);
      });
    });

  keys
    .command('rotate')
    .description('re-encrypt every stored key under a new master key, then retire the old one')
    .action(async () => {
      await withKeyStore(async (store) => {
        const result = await store.rotate();
        process.stdout.write(
          `Re-encrypted ${result.providerKeys} provider key(s) and ${result.vncPasswords} session VNC password(s) under master key ${result.keyId}; the old key ${result.previousKeyId} is retired.\n`,
        );
      });
    });
}

/** The key store as the server offers it: keys go in, only their last four characters come out. */
interface KeyStoreClient {
  set(provider: string, apiKey: string, options: { expiresAt: Date | null }): Promise<ProviderKeyInfo>;
  list(): Promise<ProviderKeyInfo[]>;
  remove(provider: string): Promise<boolean>;
  rotate(): Promise<RotationResult>;
}

async function withKeyStore(fn: (store: KeyStoreClient) => Promise<void>): Promise<void> {
  await withServer((client) =>
    fn({
      set: async (provider, apiKey, options) => providerKeyFromJson(await client.put<ProviderKeyJson>(`/v1/keys/${provider}`, { apiKey, expiresAt: options.expiresAt?.toISOString() ?? null })),
      list: async () => (await client.get<{ keys: ProviderKeyJson[] }>('/v1/keys')).keys.map(providerKeyFromJson),
      remove: async (provider) => {
        try {
          await client.delete(`/v1/keys/${provider}`);
          return true;
        } catch (error) {
          if (NexoraError.is(error, 'secret-not-found')) return false;
          throw error;
        }
      },
      rotate: () => client.post<RotationResult>('/v1/keys/rotate', {}, { timeoutMs: 120_000 }),
    }),
  );
}

function parseProvider(provider: string): string {
  const parsed = providerNameSchema.safeParse(provider);
  if (!parsed.success) {
    throw new NexoraError('invalid-argument', `"${safeName(provider)}" is not a provider name: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

/** Shorter than any real key of the providers Nexora knows by name (theirs run from 32 to 100+ characters). */
const presetKeyMinimum = 20;
/** Endpoints the user configured (a vLLM or a proxy) may use short tokens, but not a stray word. */
const configuredKeyMinimum = 8;

/**
 * The provider must be one Nexora knows by name or one the user's own config defines (not a
 * workspace's nexora.json: the workspace does not choose where keys go).
 */
async function knownProvider(name: string): Promise<{ minimumLength: number }> {
  if (Object.hasOwn(providerPresets, name)) return { minimumLength: providerPresets[name]?.keyOptional ? configuredKeyMinimum : presetKeyMinimum };
  const { config } = await loadConfig();
  if (Object.hasOwn(config.providers, name)) return { minimumLength: configuredKeyMinimum };
  const known = [...Object.keys(providerPresets), ...Object.keys(config.providers)];
  const guess = closestMatch(name, known);
  throw new NexoraError(
    'invalid-argument',
    `unknown provider '${name}'${guess ? ` — did you mean '${guess}'?` : '.'} Known: ${known.join(', ')}. For another endpoint, define it under "providers" in ${nexoraPaths().config} first (e.g. "${name}": { "kind": "openai-compatible", "baseUrl": "https://…/v1" }).`,
  );
}

/** A provider argument fit to print back (it is short and not a secret, but keep it tidy). */
function safeName(provider: string): string {
  return provider.replace(/[^\w.-]/g, '').slice(0, 40) || '<provider>';
}

const unitMs = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--expires`: a duration from now (90d, 12h, 4w) or an ISO date; must lie in the future. */
export function parseExpiry(value: string, now: Date = new Date()): Date {
  const duration = /^(\d{1,5})([hdw])$/.exec(value);
  const when = duration
    ? new Date(now.getTime() + Number(duration[1]) * unitMs[duration[2] as keyof typeof unitMs])
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? new Date(value)
      : new Date(Number.NaN);
  if (Number.isNaN(when.getTime())) {
    throw new NexoraError('invalid-argument', `--expires "${value.slice(0, 40)}" is not a date or a duration: write 2027-01-31, 2027-01-31T12:00Z, 90d, 12h or 4w.`);
  }
  if (when <= now) throw new NexoraError('invalid-argument', `--expires ${when.toISOString()} is in the past: give a later date.`);
  return when;
}

async function readStdinKey(provider: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing line break is how `echo` and most files end; anything more is a mistake.
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text.length === 0) {
    throw new NexoraError('invalid-argument', `No key arrived on stdin. Pipe it in (\`printf %s "$KEY" | nexora keys set ${provider}\`) or run the command in a terminal to be prompted.`);
  }
  return text;
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  // Echo goes off before the prompt shows, so nothing typed or pasted after it is echoed.
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          if (value.length === 0) reject(new NexoraError('invalid-argument', 'No key was entered: nothing was stored.'));
          else resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new NexoraError('aborted', 'Cancelled: nothing was stored.'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value += char;
      }
    };
    input.on('data', onData);
  });
}

function toRow(info: ProviderKeyInfo): string[] {
  return [info.provider, info.masked, formatDate(info.createdAt), formatDate(info.updatedAt), info.expiresAt ? `${formatDate(info.expiresAt)}${info.expired ? ' (expired)' : ''}` : 'never'];
}

function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
