import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { visibleControls } from '../visible-controls.js';

/**
 * The server's log: one timestamped line per entry, in a file in the Nexora home. Entries quote
 * errors that carry model and workstation text, and people read the file with `cat` and `tail -f`:
 * control characters are made visible before anything is written.
 */
export interface ServerLog {
  info(line: string): void;
  error(line: string): void;
}

export function fileLog(options: { file: string; echo?: NodeJS.WritableStream }): ServerLog {
  // With the home when it is missing (`nexora serve` run first): 0700, as the home must be.
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  const write = (level: string, line: string): void => {
    const text = `${new Date().toISOString()} ${level} ${visibleControls(line).replace(/\n/g, '\n    ')}\n`;
    try {
      // Synchronous: a crash right after still leaves its reason in the file.
      appendFileSync(options.file, text, { mode: 0o600 });
    } catch {
      // A full disk must not take the server down with it.
    }
    options.echo?.write(text);
  };
  return { info: (line) => write('info ', line), error: (line) => write('error', line) };
}
