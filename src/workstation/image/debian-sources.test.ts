import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { debianMirrorArguments } from './debian-sources.js';

const directories: string[] = [];
function aptDirectory(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'nexora-apt-'));
  directories.push(directory);
  mkdirSync(join(directory, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('debianMirrorArguments', () => {
  it("uses this machine's bookworm sources, deb822 and one-line, and nothing else", () => {
    const apt = aptDirectory({
      'sources.list.d/debian.sources':
        'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' +
        'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
      'sources.list.d/node.sources': 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n',
      'sources.list.d/old.list.disabled': 'deb http://elsewhere/debian bookworm main\n',
      'sources.list': '# deb http://commented/debian bookworm main\ndeb [arch=amd64] http://one-line.example/debian bookworm main\n',
    });
    expect(debianMirrorArguments({ env: {}, aptDirectory: apt })).toEqual([
      'deb http://one-line.example/debian bookworm main',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm-updates main',
      'deb http://mirror.example/debian-security bookworm-security main',
    ]);
  });

  it("falls back to mmdebstrap's defaults on a machine without bookworm sources (Ubuntu, say)", () => {
    const apt = aptDirectory({ 'sources.list.d/ubuntu.sources': 'Types: deb\nURIs: http://archive.ubuntu.com/ubuntu\nSuites: noble\nComponents: main\n' });
    expect(debianMirrorArguments({ env: {}, aptDirectory: apt })).toEqual([]);
  });

  it('lets NEXORA_DEBIAN_MIRROR override', () => {
    expect(debianMirrorArguments({ env: { NEXORA_DEBIAN_MIRROR: 'http://local/debian' }, aptDirectory: '/nonexistent' })).toEqual([
      'deb http://local/debian bookworm main',
      'deb http://local/debian bookworm-updates main',
    ]);
  });
});
