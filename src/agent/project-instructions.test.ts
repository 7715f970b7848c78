import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { instructionsPrompt, loadInstructions } from './project-instructions.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-instructions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dirs(name: string): { workspace: string; userFile: string } {
  const workspace = join(root, name, 'ws');
  mkdirSync(workspace, { recursive: true });
  return { workspace, userFile: join(root, name, 'home-AGENTS.md') };
}

describe('project instructions', () => {
  it('reads the user file, then AGENTS.md and NEXORA.md, framed as instructions', async () => {
    const { workspace, userFile } = dirs('all');
    writeFileSync(userFile, 'Answer in British English.\n');
    writeFileSync(join(workspace, 'AGENTS.md'), '# Conventions\r\nRun `make check` before you finish.\u0000\n');
    writeFileSync(join(workspace, 'NEXORA.md'), 'Never touch vendor/.');
    const files = await loadInstructions({ workspace, userFile });
    expect(files.map((file) => [file.origin, file.name])).toEqual([
      ['user', '~/.nexora/AGENTS.md'],
      ['project', 'AGENTS.md'],
      ['project', 'NEXORA.md'],
    ]);
    expect(files[1]?.text).toBe('# Conventions\nRun `make check` before you finish.');
    const prompt = instructionsPrompt(files);
    expect(prompt).toContain('Instructions from the project');
    expect(prompt).toContain('<instructions source="AGENTS.md" from="project">');
    expect(prompt.indexOf('British English')).toBeLessThan(prompt.indexOf('make check'));
    expect(prompt).not.toContain('truncated');
    expect(prompt).not.toContain('over the limit');
  });

  it('caps an over-long file and says so', async () => {
    const { workspace, userFile } = dirs('long');
    const body = 'é'.repeat(50_000);
    writeFileSync(join(workspace, 'AGENTS.md'), body);
    const files = await loadInstructions({ workspace, userFile, maxChars: 1000 });
    expect(files).toHaveLength(1);
    expect(files[0]?.text).toBe('é'.repeat(1000));
    expect(files[0]?.truncatedFromBytes).toBe(Buffer.byteLength(body));
    expect(instructionsPrompt(files)).toContain('AGENTS.md is 100000 bytes, over the limit; only its first 1000 characters are included');
  });

  it('does not follow a symbolic link out of the workspace, and skips empty files', async () => {
    const { workspace, userFile } = dirs('link');
    const secret = join(root, 'secret.txt');
    writeFileSync(secret, 'host secret');
    symlinkSync(secret, join(workspace, 'AGENTS.md'));
    writeFileSync(join(workspace, 'NEXORA.md'), '  \n');
    expect(await loadInstructions({ workspace, userFile })).toEqual([]);
    expect(instructionsPrompt([])).toBe('');
  });

  it('skips a FIFO named AGENTS.md without waiting for a writer', async () => {
    const { workspace, userFile } = dirs('fifo');
    execFileSync('mkfifo', [join(workspace, 'AGENTS.md')]);
    writeFileSync(join(workspace, 'NEXORA.md'), 'Use tabs.');
    const files = await loadInstructions({ workspace, userFile });
    expect(files.map((file) => file.name)).toEqual(['NEXORA.md']);
  });
});
