import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerfileBaseImage } from './build-dockerfile.js';
import { imageEnvironment, importChanges } from './image-config.js';
import { imageFilesDirectory, loadImageDefinition } from './image-definition.js';

const copies: string[] = [];
function copyOfFiles(): string {
  const directory = mkdtempSync(join(tmpdir(), 'nexora-image-definition-'));
  copies.push(directory);
  cpSync(imageFilesDirectory(), directory, { recursive: true });
  return directory;
}
afterEach(() => {
  for (const directory of copies.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('the image definition', () => {
  it('tags by the hash of its files, the same for an identical copy', () => {
    const installed = loadImageDefinition();
    expect(installed.tag).toMatch(/^nexora-workstation:[0-9a-f]{12}$/);
    expect(installed.tag.endsWith(installed.hash.slice(0, 12))).toBe(true);
    expect(installed.files).toContain('opt/nexora/start.sh');
    expect(loadImageDefinition(copyOfFiles()).hash).toBe(installed.hash);
  });

  it('changes its tag when a file, a new file or an executable bit changes', () => {
    const base = loadImageDefinition().hash;
    const edited = copyOfFiles();
    writeFileSync(join(edited, 'etc/tmux.conf'), `${readFileSync(join(edited, 'etc/tmux.conf'), 'utf8')}\n# changed\n`);
    expect(loadImageDefinition(edited).hash).not.toBe(base);
    const added = copyOfFiles();
    writeFileSync(join(added, 'extra.txt'), 'x');
    expect(loadImageDefinition(added).hash).not.toBe(base);
    const mode = copyOfFiles();
    chmodSync(join(mode, 'opt/nexora/start.sh'), 0o644);
    expect(loadImageDefinition(mode).hash).not.toBe(base);
  });

  it('keeps the Dockerfile in step with the import: same environment, user, entrypoint and base', () => {
    const dockerfile = readFileSync(join(imageFilesDirectory(), 'Dockerfile'), 'utf8');
    const environment = [...dockerfile.matchAll(/^ENV (\S+?)=(\S+)$/gm)].map((match) => [match[1], match[2]]);
    expect(environment).toEqual(imageEnvironment.map(([name, value]) => [name, value]));
    const changes = importChanges({});
    for (const instruction of ['USER', 'WORKDIR', 'ENTRYPOINT']) {
      const line = dockerfile.split('\n').find((candidate) => candidate.startsWith(`${instruction} `));
      expect(changes).toContain(line);
    }
    expect(dockerfile).toContain(`FROM ${dockerfileBaseImage}\n`);
  });
});
