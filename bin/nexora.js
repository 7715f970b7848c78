#!/usr/bin/env node
// The published entry point: the compiled CLI. `npm run build` produces dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('nexora: the CLI is not built yet. Run `npm run build` in the nexora folder (or `bash scripts/setup.sh`).\n');
  process.exit(1);
}
await import(entry.href);
