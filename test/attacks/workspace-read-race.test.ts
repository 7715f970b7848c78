import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadInstructions } from '../../src/agent/project-instructions.js';
import { surveyProject } from '../../src/agent/project-survey.js';
import { loadConfig } from '../../src/config/load-config.js';
import { copyWorkspace } from '../../src/jobs/workspace-copy.js';
import { startNameSwapper } from '../fixtures/name-swapper.js';

/**
 * Finding 4 of issue 20, as the attacker: a process with write access to the workspace (a
 * workstation, through the mount) swaps a name between a regular file and a link to a host
 * file — atomically, with renameat2(RENAME_EXCHANGE), as fast as it can — while the host reads
 * through its real code paths. Before safe-file, 18 % of instruction loads carried the host
 * file into the system prompt. Now no read may return a single byte of it: every call must
 * return exactly the workspace's own file or refuse (skip) the link — anything else fails,
 * so even a few bytes read through the link (a read sized by the regular file's lstat) count.
 */
const root = mkdtempSync(join(tmpdir(), 'nexora-read-race-'));
const marker = `HOSTSECRET${randomBytes(8).toString('hex')}`;
const host = join(root, 'host');
mkdirSync(join(host, 'code'), { recursive: true });
writeFileSync(join(host, 'secret.txt'), `${marker}\n`);
writeFileSync(join(host, 'secret.json'), JSON.stringify({ model: `${marker}/x` }));
writeFileSync(join(host, 'package.json'), JSON.stringify({ name: marker.toLowerCase(), scripts: { test: 'x' } }));
writeFileSync(join(host, 'code', 'main.rs'), `// ${marker}\n`);
writeFileSync(join(host, 'code', 'secret.txt'), `${marker}\n`);

const swappers: ChildProcess[] = [];
afterEach(() => {
  for (const swapper of swappers.splice(0)) swapper.kill('SIGKILL');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts swapping `name` with a link to `target` in `dir`; resolves once it is under way, with a reader of its round count. */
async function swap(dir: string, entries: { name: string; target: string }[]): Promise<() => number> {
  const pairs: [string, string][] = [];
  for (const entry of entries) {
    const link = join(dir, `.${entry.name}.link`);
    symlinkSync(entry.target, link);
    pairs.push([join(dir, entry.name), link]);
  }
  const swapper = await startNameSwapper(pairs);
  swappers.push(swapper.child);
  return swapper.rounds;
}

/** Runs `read` `total` times, `parallel` at once, and classifies each result. */
async function hammer(options: { total: number; parallel: number; maxMs: number; read: () => Promise<'read' | 'refused'> }): Promise<{ read: number; refused: number; calls: number; ms: number }> {
  const started = Date.now();
  const counts = { read: 0, refused: 0, calls: 0 };
  const worker = async (): Promise<void> => {
    while (counts.calls < options.total && Date.now() - started < options.maxMs) {
      counts.calls++;
      counts[await options.read()]++;
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
  return { ...counts, ms: Date.now() - started };
}

function report(path: string, result: { read: number; refused: number; calls: number; ms: number }, rounds: number, refused = 'refused the link'): void {
  console.log(`${path}: ${result.calls} calls in ${(result.ms / 1000).toFixed(1)} s — ${result.read} got the workspace's own files, ${result.refused} ${refused}, 0 returned host bytes; the swapper did ${rounds}+ rounds`);
}

function workspace(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe('host reads race a process swapping workspace names for links to host files', () => {
  it('AGENTS.md (the system prompt): 100,000 loads, none with the host file', async () => {
    const dir = workspace('instructions');
    writeFileSync(join(dir, 'AGENTS.md'), 'Use tabs.\n');
    const rounds = await swap(dir, [{ name: 'AGENTS.md', target: join(host, 'secret.txt') }]);
    const result = await hammer({
      total: 100_000,
      parallel: 8,
      maxMs: 150_000,
      read: async () => {
        const files = await loadInstructions({ workspace: dir, userFile: join(root, 'no-user-file') });
        if (files.length === 0) return 'refused';
        expect(files).toEqual([{ origin: 'project', name: 'AGENTS.md', text: 'Use tabs.' }]);
        return 'read';
      },
    });
    report('AGENTS.md', result, rounds());
    expect(result.calls).toBe(100_000);
    expect(result.read).toBeGreaterThan(0);
    expect(result.refused).toBeGreaterThan(0);
  }, 200_000);

  it('nexora.json (config, trust and its errors): 100,000 loads, none with the host file or its bytes in an error', async () => {
    const dir = workspace('config');
    writeFileSync(join(dir, 'nexora.json'), JSON.stringify({ agent: { maxSteps: 5 } }));
    const rounds = await swap(dir, [{ name: 'nexora.json', target: join(host, 'secret.json') }]);
    const result = await hammer({
      total: 100_000,
      parallel: 8,
      maxMs: 150_000,
      read: async () => {
        try {
          const loaded = await loadConfig({ workspace: dir, userConfigPath: join(root, 'no-user-config.json'), trustStorePath: join(root, 'no-trust.json') });
          expect(JSON.stringify(loaded)).not.toContain(marker);
          expect(loaded.config.agent.maxSteps).toBe(5);
          expect(loaded.config.model).toBeUndefined();
          return 'read';
        } catch (error) {
          expect(String(error)).not.toContain(marker);
          expect((error as Error).message).toBe(`${join(dir, 'nexora.json')} is a symbolic link: Nexora does not follow links in a workspace (one could point at any file on this machine). Replace it with the file or directory itself.`);
          return 'refused';
        }
      },
    });
    report('nexora.json', result, rounds());
    expect(result.calls).toBe(100_000);
    expect(result.read).toBeGreaterThan(0);
    expect(result.refused).toBeGreaterThan(0);
  }, 200_000);

  it('the survey (package.json, README, a source folder): no host name, text or language', async () => {
    const dir = workspace('survey');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'index.ts'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'own-project', scripts: { test: 'x' } }));
    writeFileSync(join(dir, 'README.md'), '# Own project\n');
    const rounds = await swap(dir, [
      { name: 'package.json', target: join(host, 'package.json') },
      { name: 'README.md', target: join(host, 'secret.txt') },
      { name: 'src', target: join(host, 'code') },
    ]);
    const result = await hammer({
      total: 100_000,
      parallel: 8,
      maxMs: 60_000,
      read: async () => {
        const survey = await surveyProject(dir);
        expect(JSON.stringify(survey).toLowerCase()).not.toContain('hostsecret');
        expect(['own-project', 'survey']).toContain(survey.name);
        expect([[], ['TypeScript']]).toContainEqual(survey.languages);
        expect([undefined, '# Own project\n']).toContain(survey.readme);
        return survey.name === 'own-project' && survey.readme !== undefined && survey.languages.includes('TypeScript') ? 'read' : 'refused';
      },
    });
    report('survey', result, rounds(), 'skipped at least one link');
    expect(result.read).toBeGreaterThan(0);
    expect(result.refused).toBeGreaterThan(0);
  }, 200_000);

  it('snapshot and replay copies: no copied file holds host bytes (links stay links)', async () => {
    const dir = workspace('copy');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'index.ts'), 'export {};\n');
    writeFileSync(join(dir, 'AGENTS.md'), 'Use tabs.\n');
    const rounds = await swap(dir, [
      { name: 'AGENTS.md', target: join(host, 'secret.txt') },
      { name: 'src', target: join(host, 'code') },
    ]);
    const copies = join(root, 'copies');
    mkdirSync(copies);
    let index = 0;
    const result = await hammer({
      total: 100_000,
      parallel: 4,
      maxMs: 30_000,
      read: async () => {
        const to = join(copies, String(index++));
        try {
          await copyWorkspace({ from: dir, to });
        } catch (error) {
          expect(String(error)).not.toContain(marker);
          return 'refused';
        }
        const foreign = regularFilesNotIn(to, ['Use tabs.\n', 'export {};\n']);
        rmSync(to, { recursive: true, force: true });
        expect(foreign).toEqual([]);
        return 'read';
      },
    });
    report('copy', result, rounds(), 'gave up (an entry kept changing kind) and removed the copy');
    expect(result.read).toBeGreaterThan(0);
  }, 200_000);
});

/** Regular files under `dir` whose bytes are none of the workspace's own (walking real directories only: a link is not followed, even on the way). */
function regularFilesNotIn(dir: string, contents: string[]): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return regularFilesNotIn(path, contents);
    return entry.isFile() && !contents.includes(readFileSync(path, 'utf8')) ? [path] : [];
  });
}
