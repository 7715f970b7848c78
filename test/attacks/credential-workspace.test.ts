import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/run-cli.js';

// Issue 20 (low), played as the attacker: a task that talks the user into running Nexora on a
// directory that holds tokens (gh's in ~/.config/gh, a browser profile, a password store) would
// put them in the model's reach. The real CLI refuses each before anything is started.
const home = mkdtempSync(join(tmpdir(), 'nexora-attack-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('a workspace that holds credentials', () => {
  it.each(['.config/gh', '.local/share/keyrings', '.mozilla/firefox', '.password-store'])('~/%s is refused by `session start` before anything is made', async (name) => {
    const dir = join(home, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hosts.yml'), 'oauth_token: gho_secret\n');
    const nexoraHome = join(home, `nexora-${name.replaceAll('/', '-')}`);
    const result = await runCli(['session', 'start', '--workspace', dir], { env: { HOME: home, NEXORA_HOME: nexoraHome, DATABASE_URL: '' }, timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Refusing to use .* as the workspace: it holds credentials/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Nothing was started for it: no server home with a database, no container.
    const made = (() => {
      try {
        return readdirSync(nexoraHome);
      } catch {
        return [];
      }
    })();
    expect(made).not.toContain('db');
  });
});
