#!/usr/bin/env node
// The published entry point: the compiled CLI. `npm run build` produces dist/.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

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

// The commands that only talk to the server run from the bundled client path `npm run build`
// made of the same code (dist/cli/client.cjs, listed in client.json): one file to load instead
// of ~120 modules. A bundle older than the CLI is not used.
const clientManifest = new URL('../dist/cli/client.json', import.meta.url);
const bundled = statSync(clientManifest, { throwIfNoEntry: false });
const clientCommands = bundled && bundled.mtimeMs >= statSync(entry).mtimeMs ? JSON.parse(readFileSync(clientManifest, 'utf8')).commands : [];
if (Array.isArray(clientCommands) && clientCommands.includes(args[0])) {
  await createRequire(import.meta.url)(fileURLToPath(new URL('../dist/cli/client.cjs', import.meta.url))).main(args);
} else {
  await import(entry.href);
}
