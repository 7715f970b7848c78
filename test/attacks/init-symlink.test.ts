import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRun } from '../fixtures/cli-run.js';
import { runCli } from '../fixtures/run-cli.js';

/**
 * Finding 3 of issue 20, as the attacker: a repository (or a workstation, through the mount)
 * plants `AGENTS.md -> ~/.bashrc` and a package.json whose name is a command substitution; the
 * user runs `nexora init --force`. Before the fix the template went through the link into
 * .bashrc, and the next shell ran `$(…)`. The user's home here is a temporary directory.
 */
const run = cliRun('init-symlink');
afterAll(() => run.cleanUp());

const bashrc = '# the user\'s own shell start-up\nexport EDITOR=vi\n';

function hostileRepository(name: string): { repo: string; userHome: string; marker: string } {
  const userHome = join(run.root, name, 'user-home');
  const repo = join(run.root, name, 'hostile-repo');
  mkdirSync(userHome, { recursive: true });
  mkdirSync(join(repo, 'src'), { recursive: true });
  writeFileSync(join(userHome, '.bashrc'), bashrc);
  const marker = join(run.root, name, 'MARKER');
  writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: `$(touch ${marker})`, scripts: { test: 'vitest run' } }));
  writeFileSync(join(repo, 'src', 'index.ts'), 'export {};\n');
  symlinkSync(join(userHome, '.bashrc'), join(repo, 'AGENTS.md'));
  return { repo, userHome, marker };
}

/** The user's next interactive shell: it reads ~/.bashrc. */
function nextShell(userHome: string): void {
  execFileSync('bash', ['-c', '. "$HOME/.bashrc"'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: userHome }, cwd: userHome, stdio: 'ignore' });
}

describe('nexora init against a planted AGENTS.md link', () => {
  it('--force replaces the link with a regular file: .bashrc is byte-for-byte unchanged and nothing runs', async () => {
    const { repo, userHome, marker } = hostileRepository('force');
    const env = await run.env(join(run.root, 'force', 'nexora-home'), { HOME: userHome });
    const result = await runCli(['init', '--force', '--workspace', repo], { env, cwd: repo, timeoutMs: 300_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('AGENTS.md was a symbolic link: it was replaced by this file, and what it pointed at was not touched');

    expect(readFileSync(join(userHome, '.bashrc'), 'utf8')).toBe(bashrc);
    const agents = lstatSync(join(repo, 'AGENTS.md'));
    expect(agents.isFile()).toBe(true);
    const written = readFileSync(join(repo, 'AGENTS.md'), 'utf8');
    // The hostile name is not a package name: the project is called by its folder, and no `$(` lands anywhere.
    expect(written).toContain('working on hostile-repo');
    expect(written).not.toContain('$(');

    nextShell(userHome);
    expect(existsSync(marker)).toBe(false);
  });

  it('without --force refuses (the name is taken by the link) and touches neither the link nor its target', async () => {
    const { repo, userHome, marker } = hostileRepository('plain');
    const env = await run.env(join(run.root, 'plain', 'nexora-home'), { HOME: userHome });
    const result = await runCli(['init', '--workspace', repo], { env, cwd: repo, timeoutMs: 300_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(repo, 'AGENTS.md')} already exists: edit it, or run \`nexora init --force\` to replace it.`);
    expect(readlinkSync(join(repo, 'AGENTS.md'))).toBe(join(userHome, '.bashrc'));
    expect(readFileSync(join(userHome, '.bashrc'), 'utf8')).toBe(bashrc);
    nextShell(userHome);
    expect(existsSync(marker)).toBe(false);
  });
});
