import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The arrows between src/'s folders point down: the CLI is a client of the server, the server
// runs the jobs, and nothing below a folder imports it. Checked on the source (type imports and
// dynamic import() included), so a new import that breaks it fails here instead of in review.
const src = import.meta.dirname;

const files = readdirSync(src, { withFileTypes: true, recursive: true })
  .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name))
  .map((entry) => relative(src, join(entry.parentPath, entry.name)));

const known = new Set(files);
const importPatterns = [/(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g, /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g];

/** The files under src/ a file imports or re-exports, statically or with import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  return importPatterns.flatMap((pattern) =>
    [...text.matchAll(pattern)].map((match) => {
      const base = relative(src, resolve(src, dirname(file), match[1] ?? '')).replace(/\.js$/, '');
      return [`${base}.ts`, `${base}.tsx`].find((candidate) => known.has(candidate)) ?? base;
    }),
  );
}

const edges = new Map(files.map((file) => [file, importsOf(file)]));

/** Imports from files under one of `from` to files under one of `to`, as "a -> b". */
function arrows(options: { from: (file: string) => boolean; to: string[] }): string[] {
  return files
    .filter(options.from)
    .flatMap((file) => (edges.get(file) ?? []).filter((target) => options.to.some((folder) => target.startsWith(`${folder}/`))).map((target) => `${file} -> ${target}`));
}

describe('module layering', () => {
  it('finds the imports it checks (the server imports the jobs)', () => {
    expect(arrows({ from: (file) => file.startsWith('server/'), to: ['jobs'] }).length).toBeGreaterThan(0);
  });

  it('nothing outside cli/ imports it: the server and everything below it know no command', () => {
    expect(arrows({ from: (file) => !file.startsWith('cli/'), to: ['cli'] })).toEqual([]);
  });

  it('only the CLI (`nexora serve`) imports server/', () => {
    expect(arrows({ from: (file) => !file.startsWith('cli/') && !file.startsWith('server/'), to: ['server'] })).toEqual([]);
  });

  it('only the CLI ends the process: no process.exit below cli/', () => {
    // initialise-data-dir.ts holds the script of a child process of its own (a string), which ends itself.
    const childScripts = new Set(['store/pglite/initialise-data-dir.ts']);
    const exits = files.filter((file) => !file.startsWith('cli/') && !childScripts.has(file) && /\bprocess\.exit\(/.test(readFileSync(join(src, file), 'utf8')));
    expect(exits).toEqual([]);
  });

  it('jobs/ imports neither the server nor the CLI', () => {
    expect(arrows({ from: (file) => file.startsWith('jobs/'), to: ['server', 'cli'] })).toEqual([]);
  });

  it('no circle of imports anywhere in src/ (type imports included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of edges.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});

// src/sessions/README.md draws the session layer: one service over a neutral workstation
// interface, the store the one owner of the sessions table.
describe('session layer', () => {
  const under = (folders: string[]) => (file: string): boolean => folders.some((folder) => file.startsWith(`${folder}/`));

  it('sessions/ sees workstations only through the neutral modules, never an engine folder', () => {
    expect(arrows({ from: under(['sessions']), to: ['workstation/docker', 'workstation/swarm'] })).toEqual([]);
  });

  it('nothing below sessions/ (workstation/, store/, secrets/) imports it', () => {
    expect(arrows({ from: under(['workstation', 'store', 'secrets']), to: ['sessions'] })).toEqual([]);
  });

  it('only the store writes SQL against the sessions table', () => {
    const sql = /\b(?:FROM|UPDATE|INTO|JOIN)\s+sessions\b/;
    const offending = files.filter((file) => !file.startsWith('store/') && sql.test(readFileSync(join(src, file), 'utf8')));
    expect(offending).toEqual([]);
  });
});

// docs/architecture.md: the live session (one per active session: shared channels and the input
// gate) sits above the tools and the session layer; the doors (server, jobs, viewer) use it.
describe('live sessions', () => {
  it('nothing below live/ imports it (the tools, the session layer, the agent and what is under them)', () => {
    const below = ['agent', 'tools', 'providers', 'sessions', 'workstation', 'secrets', 'store', 'config', 'client', 'rfb', 'safe-file', 'output'];
    expect(files.some((file) => file.startsWith('live/'))).toBe(true);
    expect(arrows({ from: (file) => below.some((folder) => file.startsWith(`${folder}/`)), to: ['live'] })).toEqual([]);
  });

  it('live/ imports none of its doors', () => {
    expect(arrows({ from: (file) => file.startsWith('live/'), to: ['server', 'cli', 'jobs', 'viewer', 'mcp', 'tui', 'sdk'] })).toEqual([]);
  });
});

// Bottom libraries: neutral modules anything may use, which therefore import nothing of the app.
describe('bottom libraries', () => {
  it('safe-file/ imports nothing under src/ but errors.ts', () => {
    const offending = files
      .filter((file) => file.startsWith('safe-file/'))
      .flatMap((file) => (edges.get(file) ?? []).filter((target) => !target.startsWith('safe-file/') && target !== 'errors.ts').map((target) => `${file} -> ${target}`));
    expect(files.some((file) => file.startsWith('safe-file/'))).toBe(true);
    expect(offending).toEqual([]);
  });
});
