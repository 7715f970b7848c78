import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedSession } from '../src/sessions/session-manager.js';
import { eventually } from './fixtures/eventually.js';
import { createSessionEnv, WORKSPACE_GID, WORKSPACE_UID, type SessionEnv } from './fixtures/session-env.js';

/**
 * The workstation plays the attacker against the workspace's git: code in it tries to plant a
 * hook and a core.fsmonitor command that the user's next `git` on the host would run, and to
 * swap .git for a directory of its own. None of that may land, `git commit` inside must still
 * work, and what it can still write (a `commondir`, a new repository) is moved aside by the guard.
 * The attacker suite for issue 20 is test/attacks/git-metadata.test.ts.
 */
let world: SessionEnv;
let started: StartedSession;
let manager: Awaited<ReturnType<SessionEnv['open']>>['manager'];
let workspace: string;

const hostGit = (...args: string[]): string =>
  execFileSync('git', ['-c', 'safe.directory=*', '-c', 'user.name=host', '-c', 'user.email=host@example.com', '-C', workspace, ...args], { encoding: 'utf8' });

function chownTree(path: string): void {
  chownSync(path, WORKSPACE_UID, WORKSPACE_GID);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name));
}

beforeAll(async () => {
  world = await createSessionEnv('git');
  workspace = world.workspace();
  hostGit('init', '-q');
  writeFileSync(join(workspace, 'main.txt'), 'one\n');
  hostGit('add', 'main.txt');
  hostGit('commit', '-qm', 'first');
  chownTree(workspace);
  ({ manager } = await world.open());
  started = await manager.start({ workspaceDir: workspace, usePool: false });
});

afterAll(async () => {
  if (started) await manager.stopContainer(started.session.id).catch(() => undefined);
  await world?.dispose();
});

const inside = async (command: string): Promise<{ exitCode: number; output: string }> => {
  const result = await started.workstation.exec({ cmd: command, timeoutMs: 20_000 });
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` };
};

describe('the workspace’s git, seen from a hostile workstation', () => {
  it('cannot plant a hook, change .git/config, or replace .git', async () => {
    const configBefore = readFileSync(join(workspace, '.git', 'config'), 'utf8');
    const attempts = [
      "printf '#!/bin/sh\\ntouch /workspace/pwned\\n' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout",
      "printf '[core]\\n\\tfsmonitor = touch /workspace/pwned\\n' >> .git/config",
      'git config core.pager "touch /workspace/pwned"',
      'mv .git .git-old',
      'rm -f .git/config',
      'mv .git/hooks .git/hooks-old',
    ];
    for (const attempt of attempts) {
      const result = await inside(attempt);
      expect(result.exitCode, `${attempt} should have failed: ${result.output}`).not.toBe(0);
    }
    expect(existsSync(join(workspace, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).toBe(configBefore);
    expect(existsSync(join(workspace, '.git-old'))).toBe(false);
    // The host's git runs no planted program.
    hostGit('status', '--short');
    hostGit('checkout', '-q', '-b', 'after-attack');
    expect(existsSync(join(workspace, 'pwned'))).toBe(false);
    // The host's git ran as root here; give the files back to the workspace's owner.
    chownTree(workspace);
  });

  it('still lets git commit inside the workstation, and the host sees the commit', async () => {
    const result = await inside("echo two >> main.txt && git -c user.name=agent -c user.email=agent@example.com commit -qam 'second from the workstation' && git log --oneline | wc -l");
    expect(result.output.trim()).toBe('2');
    expect(result.exitCode).toBe(0);
    expect(hostGit('log', '--format=%s')).toContain('second from the workstation');
    const report = await manager.gitChanges(started.session.id);
    // A commit only touches the repository's data: nothing to report.
    expect(report?.changes).toEqual([]);
  });

  it('moves aside what the mounts cannot stop — a commondir, a new repository’s risky config — and reports it at the stop', async () => {
    expect((await inside("printf 'evil\\n' > .git/commondir && mkdir -p sub && git init -q sub && printf '[core]\\n\\tfsmonitor = evil\\n' > sub/.git/config")).exitCode).toBe(0);
    await eventually(
      async () => (await manager.events.list(started.session.id, { kinds: ['git-metadata-neutralised'] })).flatMap((event) => (event.payload as { neutralised: { path: string }[] }).neutralised.map((entry) => entry.path)),
      (paths) => paths.includes('.git/commondir') && paths.includes('sub/.git/config'),
      'the guard moving both aside',
    );
    expect(existsSync(join(workspace, '.git', 'commondir'))).toBe(false);
    const stopped = await manager.stopContainer(started.session.id);
    expect(stopped.git?.neutralised.map((entry) => entry.path).sort()).toEqual(['.git/commondir', 'sub/.git/config']);
    // What is left is reported: the new repository, whose config is gone and hooks are only samples.
    expect((stopped.git?.changes ?? []).map((change) => `${change.change} ${change.path} ${change.runsOnHost}`)).toEqual(['added sub/.git true']);
    hostGit('status', '--short');
  });
});
