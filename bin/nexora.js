#!/usr/bin/env node
// The published entry point: the compiled CLI. `npm run build` produces dist/.
import { existsSync, readFileSync, statSync } from 'node:fs';

// `nexora --version` answers from package.json without loading the CLI (a few ms, not a few hundred).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

const entry = new URL('../dist/cli/main.js', import.meta.url);

// `nexora --help` prints the help `npm run build` rendered from the CLI's own definition
// (dist/cli/help.txt), without loading the CLI; one older than the CLI is not used.
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  const help = new URL('../dist/cli/help.txt', import.meta.url);
  const rendered = statSync(help, { throwIfNoEntry: false });
  const built = statSync(entry, { throwIfNoEntry: false });
  if (rendered && built && rendered.size > 0 && rendered.mtimeMs >= built.mtimeMs) {
    process.stdout.write(readFileSync(help));
    process.exit(0);
  }
}
if (!existsSync(entry)) {
  process.stderr.write('nexora: the CLI is not built yet. Run `npm run build` in the nexora folder (or `bash scripts/setup.sh`).\n');
  process.exit(1);
}
await import(entry.href);
