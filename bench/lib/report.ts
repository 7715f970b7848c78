import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const file = new URL('../../BENCHMARKS.md', import.meta.url);

/**
 * Replaces (or appends) one benchmark's section of BENCHMARKS.md, between
 * `<!-- bench:NAME -->` markers, so each script owns its own section.
 */
export function writeSection(name: string, title: string, command: string, body: string): void {
  const header = '# Benchmarks\n\nEach section is written by the script named in it. Machines here are noisy: the ratios against the peer method measured in the same run are what count.\n';
  let text = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
  const section = `${start}\n## ${title}\n\nCommand: \`${command}\` — run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}.\n\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + section + text.slice(to + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
}
