import type { ZodType } from 'zod';
import type { ZodMiniType } from 'zod/mini';
import type { output } from 'zod/v4/core';
import { NexoraError } from '../errors.js';
import { visibleControls } from '../visible-controls.js';

/**
 * Validates commander's parsed options; bad input is an 'invalid-argument' error. Takes classic
 * zod schemas and the zod/mini ones of the client path (flag-schemas.ts) alike.
 */
export function parseOptions<T extends ZodType | ZodMiniType>(schema: T, raw: unknown): output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NexoraError('invalid-argument', `--${String(issue?.path[0] ?? 'option')}: ${issue?.message ?? 'invalid'}. See --help.`);
  }
  return parsed.data as output<T>;
}

/** A table on stdout; cells may hold workstation or model text, so each is one inert line. */
export function printTable(header: string[], rows: string[][]): void {
  rows = rows.map((row) => row.map((cell) => visibleControls(cell, { oneLine: true })));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
