import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering src/sessions/README.md describes, checked on the source so a new import that
// breaks it fails here instead of in review.
const src = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(src, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name))
    .map((entry) => relative(src, join(entry.parentPath, entry.name)));
}

/** Every relative module a file imports or re-exports (type-only ones too), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] ?? '');
  return specifiers.map((specifier) => relative(src, resolve(join(src, dirname(file)), specifier)).replace(/\.js$/, '.ts'));
}

describe('session layer boundaries', () => {
  it('sessions/ sees workstations only through the neutral modules, never an engine folder', () => {
    const offending = sourceFiles('sessions').flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('workstation/docker/') || target.startsWith('workstation/swarm/'))
        .map((target) => `${file} -> ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('nothing below sessions/ (workstation/, store/, secrets/) imports it', () => {
    const offending = ['workstation', 'store', 'secrets'].flatMap((dir) =>
      sourceFiles(dir).flatMap((file) => importsOf(file).filter((target) => target.startsWith('sessions/')).map((target) => `${file} -> ${target}`)),
    );
    expect(offending).toEqual([]);
  });

  it('the modules of sessions/ import each other without a cycle (type imports included)', () => {
    const files = new Set(sourceFiles('sessions'));
    const edges = new Map([...files].map((file) => [file, importsOf(file).filter((target) => files.has(target))]));
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

  it('only the store writes SQL against the sessions table', () => {
    const sql = /\b(?:FROM|UPDATE|INTO|JOIN)\s+sessions\b/;
    const offending = ['sessions', 'secrets', 'server', 'cli', 'workstation', 'agent', 'tools']
      .flatMap((dir) => sourceFiles(dir))
      .filter((file) => sql.test(readFileSync(join(src, file), 'utf8')));
    expect(offending).toEqual([]);
  });
});
