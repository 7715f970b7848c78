import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/secrets/index.js';
import { EventStore, SessionStore, newSessionId } from '../src/store/index.js';
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

/**
 * Issue 20 (low): the lifecycle events the sessions table records in its own transactions went
 * around the event store: a NUL in a crash reason (a workstation's output) failed the status
 * change itself, and a key in it was stored in the clear.
 */
describe.each(engines)('lifecycle events on %s', (engine) => {
  const store = useTestStore(engine);
  const key = 'sk-test-0123456789abcdefghijklmnop';

  it('go through the same redaction and NUL-safe encoding as every other event', async () => {
    const sessions = new SessionStore(store.db, { redact: createRedactor([key]) });
    const sessionId = newSessionId();
    await sessions.create({ id: sessionId, userId: 'u', model: 'm', provider: 'p' });
    const reason = `the start script said: \u0000\u0000 ${key} \ud83d`;
    await expect(sessions.transition(sessionId, 'crashed', { reason })).resolves.toMatchObject({ status: 'crashed' });
    const [change] = await new EventStore(store.db).list(sessionId, { kinds: ['session-status-change'] });
    const stored = JSON.stringify(change?.payload);
    expect(stored).toContain('\u2400\u2400');
    expect(stored).not.toContain(key);
    expect(stored).toContain('…mnop');
  });
});
