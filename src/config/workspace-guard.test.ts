import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkWorkspace } from './workspace-guard.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-guard-'));
const home = join(root, 'home');
const project = join(home, 'projects', 'app');
mkdirSync(project, { recursive: true });
mkdirSync(join(home, '.ssh'));
mkdirSync(join(home, '.aws'));
const nexoraHome = join(root, 'nexora-home');
mkdirSync(join(nexoraHome, 'secrets'), { recursive: true });
mkdirSync(join(nexoraHome, 'demo', 'workspace-1'), { recursive: true });
const dockerDir = join(root, 'docker-run');
mkdirSync(dockerDir);
writeFileSync(join(dockerDir, 'docker.sock'), '');
const env = { NEXORA_HOME: nexoraHome, DOCKER_HOST: `unix://${join(dockerDir, 'docker.sock')}` };
afterAll(() => rmSync(root, { recursive: true, force: true }));

const check = (dir: string) => checkWorkspace(dir, { home, env });
const refusal = (dir: string): string => {
  try {
    check(dir);
  } catch (error) {
    expect(error).toMatchObject({ code: 'unsafe-workspace' });
    const message = (error as Error).message;
    // Every refusal says what to do instead.
    expect(message).toContain('--workspace DIR');
    return message;
  }
  throw new Error(`${dir} was accepted`);
};

describe('checkWorkspace', () => {
  it('accepts a project directory and returns its real path', () => {
    expect(check(project)).toBe(project);
    expect(check(join(project, '.'))).toBe(project);
    // A workspace inside Nexora's home (the demo's) exposes nothing of it.
    expect(check(join(nexoraHome, 'demo', 'workspace-1'))).toBe(join(nexoraHome, 'demo', 'workspace-1'));
  });

  it('refuses / and the home directory', () => {
    expect(refusal('/')).toMatch(/root of the host filesystem/);
    expect(refusal(home)).toMatch(/is your home directory/);
  });

  it('refuses any directory that contains the home, Nexora’s home, the Docker socket or ~/.ssh', () => {
    expect(refusal(root)).toMatch(/contains your home directory/);
    const other = join(root, 'other');
    mkdirSync(other);
    expect(() => checkWorkspace(other, { home, env: { NEXORA_HOME: join(other, 'nx') } })).toThrow(/contains Nexora’s home/);
  });

  it('names each exposure', () => {
    const outside = mkdtempSync(join(tmpdir(), 'nexora-guard-outside-'));
    try {
      const nested = join(outside, 'nx');
      expect(() => checkWorkspace(outside, { home, env: { NEXORA_HOME: nested } })).toThrow(/contains Nexora’s home/);
      mkdirSync(join(outside, 'run'));
      writeFileSync(join(outside, 'run', 'docker.sock'), '');
      expect(() => checkWorkspace(outside, { home, env: { NEXORA_HOME: nexoraHome, DOCKER_HOST: `unix://${join(outside, 'run', 'docker.sock')}` } })).toThrow(/contains the Docker socket/);
      const otherHome = join(outside, 'h');
      mkdirSync(join(otherHome, '.ssh'), { recursive: true });
      expect(() => checkWorkspace(join(otherHome, '.ssh'), { home: otherHome, env })).toThrow(/SSH keys|credentials/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    expect(refusal(dockerDir)).toMatch(/contains the Docker socket/);
    expect(refusal(join(home, '.aws'))).toMatch(/holds credentials \(~\/\.aws\)/);
    expect(refusal(join(nexoraHome, 'secrets'))).toMatch(/Nexora’s key directory/);
  });

  it('refuses system directories and what is under them, and shared roots', () => {
    for (const dir of ['/etc', '/usr', '/usr/local/bin', '/var', '/var/lib', '/proc', '/sys', '/dev', '/boot', '/bin', '/lib']) {
      try {
        check(dir);
        throw new Error(`${dir} was accepted`);
      } catch (error) {
        // Some of these are links on this system (/bin → /usr/bin): refused either way.
        expect(['unsafe-workspace', 'invalid-argument'], dir).toContain((error as { code?: string }).code);
        if ((error as { code?: string }).code === 'unsafe-workspace') expect((error as Error).message).toMatch(/system directory|contains/);
      }
    }
    // (this test's home is under /tmp, so /tmp is refused for containing it as well)
    expect(() => checkWorkspace('/tmp', { home: '/nonexistent-home', env: { NEXORA_HOME: '/nonexistent-nexora' } })).toThrow(/shared by every user/);
    expect(refusal('/tmp')).toMatch(/contains your home directory/);
    expect(refusal('/home')).toMatch(/home directory|shared/);
  });

  it('resolves symlinks first', () => {
    const link = join(root, 'innocent-name');
    symlinkSync(home, link);
    expect(refusal(link)).toMatch(new RegExp(`${link} \\(${home}\\).*is your home directory`));
    const etcLink = join(project, 'config-link');
    symlinkSync('/etc', etcLink);
    expect(refusal(etcLink)).toMatch(/system directory \(\/etc\)/);
  });

  it('refuses the directories where programs keep tokens: ~/.config, ~/.local, browser profiles, password stores', () => {
    for (const name of ['.config', '.config/gh', '.local/share', '.mozilla/firefox', '.password-store', '.cargo', '.m2']) {
      mkdirSync(join(home, name), { recursive: true });
      expect(refusal(join(home, name)), name).toMatch(/holds credentials \(~\/\.[a-z0-9-]+\)/);
    }
  });

  it("refuses another user's home and their credentials, and allows their projects", () => {
    const alice = join(root, 'alice');
    mkdirSync(join(alice, 'projects', 'app'), { recursive: true });
    mkdirSync(join(alice, '.config', 'gh'), { recursive: true });
    const passwdFile = join(root, 'passwd');
    writeFileSync(passwdFile, `root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nalice:x:1001:1001::${alice}:/bin/bash\n`);
    const guarded = (dir: string): void => void checkWorkspace(dir, { home, env, passwdFile });
    expect(() => guarded(alice)).toThrow(new RegExp(`contains another user's home directory \\(${alice}\\)`));
    expect(() => guarded(join(alice, '.config', 'gh'))).toThrow(/holds another user's credentials/);
    expect(() => guarded(join(alice, 'projects', 'app'))).not.toThrow();
    expect(() => guarded(project)).not.toThrow();
  });

  it('says so when the directory does not exist', () => {
    expect(() => check(join(root, 'missing'))).toThrow(/does not exist/);
  });
});
