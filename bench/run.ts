/**
 * Runs the benchmarks one after another, each in its own process (they start containers and
 * servers and measure memory, so they must not share one), and ends with a summary:
 *   npm run bench                      every benchmark
 *   npm run bench -- tools rfb-decode  the named ones
 *   npm run bench -- --list            list them
 * Other flags (--write, --runs 5) go to each script; a script ignores what it does not know.
 * BENCH_RUNS sets the sample count of the scripts that read it.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const benchDirectory = fileURLToPath(new URL('.', import.meta.url));
/** Modules the benchmarks import, not benchmarks themselves. */
const helpers = new Set(['run.ts', 'rfb-workstation.ts']);

const available = readdirSync(benchDirectory)
  .filter((file) => file.endsWith('.ts') && !helpers.has(file))
  .map((file) => basename(file, '.ts'))
  .sort();

const args = process.argv.slice(2);
if (args.includes('--list')) {
  process.stdout.write(`${available.join('\n')}\n`);
  process.exit(0);
}
// A flag's value (`--runs 5`) is not a benchmark's name: names are the words that match one.
const names = args.filter((arg, index) => !arg.startsWith('-') && !args[index - 1]?.startsWith('--') && available.includes(arg));
const unknown = args.filter((arg, index) => !arg.startsWith('-') && !args[index - 1]?.startsWith('--') && !available.includes(arg));
if (unknown.length > 0) {
  process.stderr.write(`No benchmark named ${unknown.join(', ')}. Available: ${available.join(', ')}.\n`);
  process.exit(2);
}
const passThrough = args.filter((arg) => !names.includes(arg));
const selected = names.length > 0 ? names : available;

function runOne(name: string): Promise<{ name: string; code: number | null; ms: number }> {
  const started = performance.now();
  process.stderr.write(`\n==> bench/${name}.ts ${passThrough.join(' ')}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDirectory, `${name}.ts`), ...passThrough], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', () => resolve({ name, code: null, ms: performance.now() - started }));
    child.on('close', (code) => resolve({ name, code, ms: performance.now() - started }));
  });
}

const results = [];
for (const name of selected) results.push(await runOne(name));

process.stderr.write('\nbenchmark            result   time\n');
for (const result of results) {
  process.stderr.write(`${result.name.padEnd(20)} ${(result.code === 0 ? 'ok' : `failed (${result.code ?? 'did not start'})`).padEnd(8)} ${(result.ms / 1000).toFixed(1)} s\n`);
}
process.exitCode = results.every((result) => result.code === 0) ? 0 : 1;
