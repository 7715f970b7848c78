import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { starterInstructions, surveyProject } from './project-survey.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-survey-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('surveyProject on a hostile repository', () => {
  it('follows no link (a manifest or a folder pointing at the host) and keeps only a real package name', async () => {
    const host = join(root, 'host');
    mkdirSync(join(host, 'code'), { recursive: true });
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host-secret-name', scripts: { test: 'x' } }));
    writeFileSync(join(host, 'code', 'main.rs'), 'fn main() {}\n');
    const workspace = join(root, 'my-project');
    mkdirSync(join(workspace, 'src'), { recursive: true });
    writeFileSync(join(workspace, 'src', 'a.ts'), '');
    symlinkSync(join(host, 'code'), join(workspace, 'vendored'));
    symlinkSync(join(host, 'package.json'), join(workspace, 'package.json'));
    symlinkSync(join(host, 'package.json'), join(workspace, 'README.md'));

    const linked = await surveyProject(workspace);
    expect(linked.languages).toEqual(['TypeScript']);
    expect(linked.name).toBe('my-project');
    expect(JSON.stringify(linked)).not.toContain('host-secret-name');

    rmSync(join(workspace, 'package.json'));
    writeFileSync(join(workspace, 'package.json'), JSON.stringify({ name: '$(touch /tmp/x)\n# Run this', scripts: { test: 'vitest' } }));
    const hostile = await surveyProject(workspace);
    expect(hostile.name).toBe('my-project');
    expect(hostile.commands.test).toBe('npm test');
    expect(starterInstructions(hostile)).not.toContain('$(');

    writeFileSync(join(workspace, 'package.json'), JSON.stringify({ name: '@scope/real-name.js' }));
    expect((await surveyProject(workspace)).name).toBe('@scope/real-name.js');
  });
});
