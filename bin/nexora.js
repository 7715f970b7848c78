#!/usr/bin/env node
// The published entry point: the compiled CLI. `npm run build` produces dist/.
// CommonJS (bin/package.json says so), not an ES module: an ES-module entry costs ~15–20 ms
// of loader start-up before its first line, a tenth of a client command's whole run.
'use strict';
const { existsSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = join(__dirname, '..');

// `nexora --version` answers from package.json without loading the CLI (a few ms, not a few hundred).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
  process.exit(0);
}

const entry = join(root, 'dist', 'cli', 'main.js');

// `nexora --help` prints the help `npm run build` rendered from the CLI's own definition
// (dist/cli/help.txt), without loading the CLI; one older than the CLI is not used.
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
  const help = join(root, 'dist', 'cli', 'help.txt');
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
const clientManifest = join(root, 'dist', 'cli', 'client.json');
const bundled = statSync(clientManifest, { throwIfNoEntry: false });
const clientCommands = bundled && bundled.mtimeMs >= statSync(entry).mtimeMs ? JSON.parse(readFileSync(clientManifest, 'utf8')).commands : [];
// A failure inside either ends the process as an uncaught error would (exit status 1, the error printed).
if (Array.isArray(clientCommands) && clientCommands.includes(args[0])) {
  void require(join(root, 'dist', 'cli', 'client.cjs')).main(args);
} else {
  void import(pathToFileURL(entry).href);
}
