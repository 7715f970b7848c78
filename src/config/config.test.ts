import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';
import { maskConfig } from './mask-config.js';

let dir: string;
let userConfigPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nexora-config-'));
  userConfigPath = join(dir, 'user.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('merges the user file under the workspace file and fills defaults', async () => {
    await writeFile(
      userConfigPath,
      JSON.stringify({ model: 'anthropic/claude-sonnet-4-5', providers: { openai: { apiKey: 'sk-user-secret-1234', api: 'chat' } }, agent: { maxSteps: 10 } }),
    );
    await writeFile(join(dir, 'nexora.json'), JSON.stringify({ providers: { openai: { baseUrl: 'http://localhost:9/v1' } }, agent: { keepImages: 2 } }));
    const { config, sources } = await loadConfig({ workspace: dir, userConfigPath });
    expect(sources).toEqual([userConfigPath, join(dir, 'nexora.json')]);
    expect(config.model).toBe('anthropic/claude-sonnet-4-5');
    expect(config.routing.strategy).toBe('explicit');
    expect(config.providers.openai).toEqual({ apiKey: 'sk-user-secret-1234', api: 'chat', baseUrl: 'http://localhost:9/v1' });
    expect(config.agent).toMatchObject({ maxSteps: 10, keepImages: 2, imageDropChunk: 3 });
    expect(maskConfig(config).providers.openai?.apiKey).toBe('…1234');
  });

  it('uses defaults when there is no file at all', async () => {
    const { config, sources } = await loadConfig({ workspace: dir, userConfigPath });
    expect(sources).toEqual([]);
    expect(config.routing.strategy).toBe('cheapest');
  });

  it('names the unknown field and the file', async () => {
    await writeFile(join(dir, 'nexora.json'), JSON.stringify({ agent: { maxStep: 3 } }));
    await expect(loadConfig({ workspace: dir, userConfigPath })).rejects.toThrow(`Invalid configuration in ${join(dir, 'nexora.json')}: unknown field "agent.maxStep"`);
  });

  it('names a mistyped field and the file', async () => {
    await writeFile(userConfigPath, JSON.stringify({ providers: { ollama: { baseUrl: 42 } } }));
    await expect(loadConfig({ workspace: dir, userConfigPath })).rejects.toThrow(/Invalid configuration in .*user\.json: field "providers\.ollama\.baseUrl"/);
    await writeFile(userConfigPath, '{ not json');
    await expect(loadConfig({ userConfigPath })).rejects.toThrow(/user\.json is not valid JSON/);
  });
});
