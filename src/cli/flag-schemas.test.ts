import { z as classic } from 'zod';
import { describe, expect, it } from 'vitest';
import * as mini from './flag-schemas.js';
import { parseOptions } from './parse-options.js';

/** What parseOptions says about `raw` under a schema (its error message, or 'ok'). */
function verdict(schema: Parameters<typeof parseOptions>[0], raw: unknown): string {
  try {
    parseOptions(schema, raw);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe('flag schemas (zod/mini for the client path)', () => {
  // The same flags written both ways: the client path must check and word them as classic zod did.
  const asMini = mini.strictObject({
    user: mini.optional(mini.string().check(mini.regex(/^\d{1,10}(:\d{1,10})?$/, 'use UID:GID, e.g. 1000:1000'))),
    format: mini.optional(mini.enum(['md', 'json', 'html'], { message: 'use md, json or html' })),
    out: mini.optional(mini.string().check(mini.minLength(1))),
    json: mini.optional(mini.boolean()),
  });
  const asClassic = classic.strictObject({
    user: classic.string().regex(/^\d{1,10}(:\d{1,10})?$/, 'use UID:GID, e.g. 1000:1000').optional(),
    format: classic.enum(['md', 'json', 'html'], { message: 'use md, json or html' }).optional(),
    out: classic.string().min(1).optional(),
    json: classic.boolean().optional(),
  });

  it.each([
    [{ user: '1000:1000', format: 'md', out: 'x', json: true }],
    [{}],
    [{ user: 'me' }],
    [{ format: 'pdf' }],
    [{ out: '' }],
    [{ json: 'yes' }],
    [{ extra: true }],
  ])('%j: the same verdict as classic zod', (raw) => {
    expect(verdict(asMini, raw)).toBe(verdict(asClassic, raw));
  });

  // (Classic zod, imported here, sets the English locale too: test/client-bundle.test.ts checks
  // the messages of the bundle, where only mini is.)
  it('says which flag is wrong and how to fix it', () => {
    expect(verdict(asMini, { json: 'yes' })).toBe('--json: Invalid input: expected boolean, received string. See --help.');
    expect(verdict(asMini, { user: 'me' })).toBe('--user: use UID:GID, e.g. 1000:1000. See --help.');
    expect(verdict(asMini, { user: '1000' })).toBe('ok');
  });
});
