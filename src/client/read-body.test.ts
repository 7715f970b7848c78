import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from './read-body.js';

const dir = mkdtempSync(join(tmpdir(), 'nexora-read-body-'));
const socketPath = join(dir, 'server.sock');
/** What the server's readBody made of each request: the text, or the error's message. */
const outcomes: Promise<string>[] = [];
let server: Server;

beforeAll(async () => {
  server = createServer((incoming, response) => {
    const drain = incoming.url === '/drain' ? { drainBytes: 100_000 } : {};
    const outcome = readBody(incoming, { maxBytes: 1000, ...drain, tooLarge: () => new Error('too large'), incomplete: () => new Error('incomplete') }).then(
      (bytes) => bytes.toString('utf8'),
      (error: Error) => `error: ${error.message}`,
    );
    outcomes.push(outcome);
    void outcome.then((text) => (response.destroyed ? undefined : response.end(`got ${text.length}`)));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function post(body: string | Buffer[], path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const sent = request({ socketPath, method: 'POST', path, headers: { 'transfer-encoding': 'chunked' } }, (answer: IncomingMessage) => {
      readBody(answer, { incomplete: () => new Error('answer incomplete') }).then((bytes) => resolve(bytes.toString('utf8')), reject);
    });
    sent.on('error', reject);
    for (const chunk of typeof body === 'string' ? [body] : body) sent.write(chunk);
    sent.end();
  });
}

describe('readBody', () => {
  it('reads a body in one piece or in many, and an empty one', async () => {
    expect(await post('{"command":"true"}')).toBe('got 18');
    expect(await outcomes.at(-1)).toBe('{"command":"true"}');
    expect(await post([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('é')])).toBe('got 5');
    expect(await outcomes.at(-1)).toBe('abcdé');
    expect(await post('')).toBe('got 0');
  });

  it('refuses a body over the limit', async () => {
    const before = outcomes.length;
    await post('x'.repeat(5000)).catch(() => undefined);
    expect(await outcomes[before]).toBe('error: too large');
  });

  it('with drainBytes, reads the rest of an oversized body so that the refusal reaches the peer', async () => {
    const before = outcomes.length;
    const chunks = Array.from({ length: 50 }, () => Buffer.alloc(1000, 120));
    expect(await post(chunks, '/drain')).toBe('got 16');
    expect(await outcomes[before]).toBe('error: too large');
    // Past the drain allowance too, the connection is cut as before.
    await post(Array.from({ length: 200 }, () => Buffer.alloc(1000, 120)), '/drain').catch(() => undefined);
    expect(await outcomes[before + 1]).toBe('error: too large');
  });

  it('fails, rather than waiting for ever, when the peer goes away mid-body', async () => {
    const before = outcomes.length;
    const socket = connect(socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"half":');
    await expect.poll(() => outcomes.length).toBe(before + 1);
    socket.destroy();
    expect(await outcomes[before]).toBe('error: incomplete');
  });
});
