import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requestOptions } from './call-options.js';

const src = fileURLToPath(new URL('..', import.meta.url));

/** Every module the SDK loads at run time (type-only imports are erased), found from its index. */
function runtimeGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'(\.[^']+)'/gm)) {
      const specifier = match[1] ?? '';
      // A statement whose named imports are all types is erased too.
      if (/^(?:import|export)\s+\{\s*(?:type\s+[^,}]+,?\s*)+\}/.test(match[0])) continue;
      visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return seen;
}

describe('the SDK', () => {
  it('loads nothing of the store, Docker, the agent, the server or the tools', () => {
    const modules = [...runtimeGraph(join(src, 'sdk', 'index.ts'))].map((file) => relative(src, file));
    expect(modules).toContain('client/nexora-client.ts');
    for (const module of modules) expect(module, modules.join(', ')).toMatch(/^(sdk|client)\/|^(errors|paths)\.ts$/);
  });

  it('requestOptions: the default deadline, the caller’s, and a refused one', () => {
    expect(requestOptions(undefined, 30_000)).toEqual({ timeoutMs: 30_000 });
    const signal = new AbortController().signal;
    expect(requestOptions({ timeoutMs: 0, signal }, 30_000)).toEqual({ timeoutMs: 0, signal });
    expect(() => requestOptions({ timeoutMs: -1 }, 30_000)).toThrow(/timeoutMs must be/);
    expect(() => requestOptions({ timeoutMs: Number.NaN }, 30_000)).toThrow(/timeoutMs must be/);
  });
});
