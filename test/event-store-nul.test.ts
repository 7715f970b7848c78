import { describe, expect, it } from 'vitest';
import { EventStore } from '../src/store/index.js';
import { engines, useTestStore } from './fixtures/db-engines.js';

/**
 * PostgreSQL's jsonb rejects \u0000 and unpaired surrogates. A NUL in model text or in a
 * command's output (a binary file cat'ed) must not fail the insert, on either engine.
 */
describe.each(engines)('events with NUL bytes on %s', (engine) => {
  const store = useTestStore(engine);

  it('stores a payload with NULs and lone surrogates, readable back with them replaced', async () => {
    const sessionId = await store.newSession();
    const events = new EventStore(store.db);
    const payload = {
      summary: 'exit code 0, stdout a\u0000b',
      nested: [{ text: '\u0000\u0000start' }, 'half a pair: \ud83d end'],
      'key\u0000with nul': true,
      escapedBackslash: 'a literal \\u0000 stays as typed',
    };
    await events.record({ sessionId, kind: 'tool-call-end', payload });
    const [stored] = await events.list(sessionId, { kinds: ['tool-call-end'] });
    expect(stored?.payload).toEqual({
      summary: 'exit code 0, stdout a\u2400b',
      nested: [{ text: '\u2400\u2400start' }, 'half a pair: \ufffd end'],
      'key\u2400with nul': true,
      escapedBackslash: 'a literal \\u0000 stays as typed',
    });
  });

  it('is needed: the database itself refuses the raw payload', async () => {
    const sessionId = await store.newSession();
    await expect(
      store.db.query('INSERT INTO events (session_id, kind, payload) VALUES ($1, $2, $3::jsonb)', [sessionId, 'tool-call-end', JSON.stringify({ text: 'a\u0000b' })]),
    ).rejects.toThrow(/Unicode|\\u0000/);
  });
});
