import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { keyEventsForInput } from './keysyms.js';
import { RfbClient, type RfbConnectOptions } from './rfb-client.js';
import { FakeRfbServer, type FakeRfbPeer, type FakeRfbServerOptions } from './testing/fake-rfb-server.js';
import { encodeCopyRect, encodeHextile, encodeRaw, encodeZlib, encodeZrle, expectedFramebuffer, makeTestImage, makeTwoColourImage, rectHeader, subImage } from './testing/rect-encoders.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(serverOptions: Partial<FakeRfbServerOptions> = {}, clientOptions: Partial<RfbConnectOptions> = {}) {
  const server = await FakeRfbServer.start({ width: 200, height: 120, ...serverOptions });
  cleanups.push(() => server.close());
  const client = await RfbClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 5000, reconnect: false, ...clientOptions });
  cleanups.push(() => client.close());
  const peer = await server.peer(0);
  return { server, client, peer };
}

/** Sends an update and waits until the client has applied it and asked for the next one. */
async function applied(client: RfbClient, send: () => void): Promise<void> {
  const before = performance.now();
  send();
  // Generous: byte-by-byte delivery of a whole frame is slow on a loaded machine.
  const result = await client.waitForUpdate({ after: before, timeoutMs: 30_000 });
  expect(result.outcome).toBe('updated');
}

describe('RfbClient handshake', () => {
  it('connects without authentication and sets up the pixel format, encodings and updates', async () => {
    const { client, peer } = await setUp({ name: 'desk' });
    expect(client.width).toBe(200);
    expect(client.height).toBe(120);
    expect(client.name).toBe('desk');
    expect(client.framebuffer.length).toBe(200 * 120 * 4);
    const format = await peer.waitForMessage((message) => message.type === 'set-pixel-format');
    expect(format.type === 'set-pixel-format' && [...format.format.subarray(0, 14)]).toEqual([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0]);
    const encodings = await peer.waitForMessage((message) => message.type === 'set-encodings');
    expect(encodings).toEqual({ type: 'set-encodings', encodings: [16, 6, 5, 1, 0, -223, -224] });
    const request = await peer.waitForMessage((message) => message.type === 'update-request');
    expect(request).toEqual({ type: 'update-request', incremental: false, x: 0, y: 0, width: 200, height: 120 });
  });

  it.each([
    [3, 'hunter22'],
    [7, 'hunter22'],
    [8, 'hunter22'],
    [3, undefined],
    [7, undefined],
  ] as const)('connects to an RFB 3.%i server with password %s', async (minorVersion, password) => {
    const { client, peer } = await setUp({ minorVersion, password, width: 33, height: 17 }, { password });
    expect(client.state).toBe('connected');
    expect([client.width, client.height]).toEqual([33, 17]);
    await peer.waitForMessage((message) => message.type === 'update-request');
  });

  it('rejects a wrong password with rfb-auth-failed and the server reason', async () => {
    const server = await FakeRfbServer.start({ width: 10, height: 10, password: 'right' });
    cleanups.push(() => server.close());
    const error = await RfbClient.connect({ host: '127.0.0.1', port: server.port, password: 'wrong' }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'rfb-auth-failed')).toBe(true);
    expect((error as Error).message).toContain('Authentication failed');
  });

  it('asks for a password when the server requires one', async () => {
    const server = await FakeRfbServer.start({ width: 10, height: 10, password: 'right' });
    cleanups.push(() => server.close());
    await expect(RfbClient.connect({ host: '127.0.0.1', port: server.port })).rejects.toThrow(/requires a password/);
  });

  it('times out on a server that never greets, and honours abort', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      silent.close(() => resolve());
    }));
    const port = (silent.address() as { port: number }).port;
    const started = performance.now();
    const error = await RfbClient.connect({ host: '127.0.0.1', port, timeoutMs: 150 }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'timeout')).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await RfbClient.connect({ host: '127.0.0.1', port, signal: controller.signal }).catch((caught: unknown) => caught);
    expect(NexoraError.is(aborted, 'aborted')).toBe(true);
  });

  it('rejects impossible options, naming the field', async () => {
    await expect(RfbClient.connect({ host: '127.0.0.1', port: 70000 })).rejects.toThrow(/option port/);
    await expect(RfbClient.connect({ host: '127.0.0.1', port: 5900, reconnect: { attempts: 0 } })).rejects.toThrow(/option reconnect/);
    await expect(RfbClient.connect({ host: '', port: 5900 })).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
  });

  it('rejects a framebuffer larger than the limits', async () => {
    const server = await FakeRfbServer.start({ width: 16385, height: 1 });
    cleanups.push(() => server.close());
    await expect(RfbClient.connect({ host: '127.0.0.1', port: server.port })).rejects.toSatisfy((error) => NexoraError.is(error, 'rfb-protocol'));
  });
});

describe('RfbClient framebuffer mirror', () => {
  it.each([false, true])('applies raw and CopyRect rectangles pixel-exactly (byte by byte: %s)', async (byteByByte) => {
    const { client, peer } = await setUp({ byteByByte });
    const image = makeTestImage(200, 120, 7);
    await applied(client, () => peer.sendUpdate([encodeRaw(0, 0, image)]));
    expect(client.framebuffer.equals(expectedFramebuffer(200, 120, [{ x: 0, y: 0, image }]))).toBe(true);
    // Overlapping copies in both directions.
    await applied(client, () => peer.sendUpdate([encodeCopyRect({ x: 10, y: 12, width: 100, height: 60, sourceX: 0, sourceY: 0 })]));
    await applied(client, () => peer.sendUpdate([encodeCopyRect({ x: 0, y: 0, width: 50, height: 40, sourceX: 30, sourceY: 25 })]));
    const expected = makeTestImage(200, 120, 7);
    const afterFirst = subImage(expected, 0, 0, 100, 60);
    const step1 = expectedFramebuffer(200, 120, [{ x: 0, y: 0, image: expected }, { x: 10, y: 12, image: afterFirst }]);
    const step1Image = { width: 200, height: 120, pixels: new Uint32Array(step1.buffer, step1.byteOffset, 200 * 120) };
    const step2 = expectedFramebuffer(200, 120, [{ x: 0, y: 0, image: step1Image }, { x: 0, y: 0, image: subImage(step1Image, 30, 25, 50, 40) }]);
    expect(client.framebuffer.equals(step2)).toBe(true);
    const requests = peer.messages.filter((message) => message.type === 'update-request');
    expect(requests.at(-1)).toEqual({ type: 'update-request', incremental: true, x: 0, y: 0, width: 200, height: 120 });
  });

  it('applies Hextile rectangles pixel-exactly', async () => {
    const { client, peer } = await setUp({ width: 100, height: 70 });
    const image = makeTestImage(90, 61, 3);
    await applied(client, () => peer.sendUpdate([encodeHextile(5, 4, image)]));
    expect(client.framebuffer.equals(expectedFramebuffer(100, 70, [{ x: 5, y: 4, image }]))).toBe(true);
  });

  it('applies Zlib and ZRLE rectangles over persistent streams, with every ZRLE subencoding', async () => {
    const { client, peer } = await setUp({ width: 300, height: 200 });
    // 64-pixel colour regions line up with ZRLE tiles: solid, packed-palette (2, 4 and 16
    // colours), palette RLE, plain RLE and raw tiles all occur (checked in rect-encoders.test.ts).
    const first = makeTestImage(300, 200, 11, 64);
    await applied(client, () => peer.sendUpdate([encodeZrle(0, 0, first, (data) => peer.deflate('zrle', data))]));
    expect(client.framebuffer.equals(expectedFramebuffer(300, 200, [{ x: 0, y: 0, image: first }]))).toBe(true);
    const second = makeTestImage(130, 70, 12, 64);
    const third = makeTestImage(40, 33, 13);
    await applied(client, () =>
      peer.sendUpdate([
        encodeZrle(150, 100, second, (data) => peer.deflate('zrle', data)),
        encodeZlib(1, 2, third, (data) => peer.deflate('zlib', data)),
        encodeZlib(250, 150, third, (data) => peer.deflate('zlib', data)),
      ]),
    );
    const twoColours = makeTwoColourImage(256, 64);
    await applied(client, () => peer.sendUpdate([encodeZrle(10, 130, twoColours, (data) => peer.deflate('zrle', data))]));
    const expected = expectedFramebuffer(300, 200, [
      { x: 0, y: 0, image: first },
      { x: 150, y: 100, image: second },
      { x: 1, y: 2, image: third },
      { x: 250, y: 150, image: third },
      { x: 10, y: 130, image: twoColours },
    ]);
    expect(client.framebuffer.equals(expected)).toBe(true);
    expect(client.stats.rectsByEncoding).toEqual({ 16: 3, 6: 2 });
    expect(client.stats.updates).toBe(3);
  });

  it('resizes on DesktopSize, reports the change and requests a full update', async () => {
    const { client, peer } = await setUp();
    const resized = new Promise((resolve) => client.once('rfb-desktop-resize', resolve));
    const tracker = client.trackChanges();
    await applied(client, () => peer.sendUpdate([rectHeader(0, 0, 64, 48, -223)]));
    expect(await resized).toEqual({ width: 64, height: 48 });
    expect([client.width, client.height, client.framebuffer.length]).toEqual([64, 48, 64 * 48 * 4]);
    expect(tracker.take()).toEqual([{ x: 0, y: 0, width: 64, height: 48 }]);
    await peer.waitForMessage((message) => message.type === 'update-request' && !message.incremental && message.width === 64);
  });

  it('tracks dirty regions and waits for quiet without fixed sleeps', async () => {
    const { client, peer } = await setUp();
    const tracker = client.trackChanges();
    const image = makeTestImage(20, 10, 5);
    await applied(client, () => peer.sendUpdate([encodeRaw(3, 4, image), encodeRaw(50, 60, image)]));
    expect(tracker.take()).toEqual([
      { x: 3, y: 4, width: 20, height: 10 },
      { x: 50, y: 60, width: 20, height: 10 },
    ]);
    // A change already seen after `after` resolves at once; none after lastUpdateAt waits.
    expect((await client.waitForUpdate({ after: 0, timeoutMs: 50 })).outcome).toBe('updated');
    expect((await client.waitForUpdate({ after: client.lastUpdateAt, timeoutMs: 50 })).outcome).toBe('timeout');
    // The same pixels again change nothing, so nothing is dirty and no update is reported.
    peer.sendUpdate([encodeRaw(3, 4, image)]);
    expect((await client.waitForUpdate({ timeoutMs: 150 })).outcome).toBe('timeout');
    expect(tracker.take()).toEqual([]);

    const since = performance.now();
    // Changes every 10 ms never leave 250 ms of quiet (generous: this machine may be loaded).
    const timer = setInterval(() => peer.sendUpdate([encodeRaw(0, 0, makeTestImage(5, 5, Math.floor(Math.random() * 1000) + 1))]), 10);
    const busy = await client.waitForQuiet({ quietMs: 250, timeoutMs: 500, since });
    clearInterval(timer);
    expect(busy.outcome).toBe('timeout');
    const quiet = await client.waitForQuiet({ quietMs: 80, timeoutMs: 2000 });
    expect(quiet.outcome).toBe('quiet');
    expect(quiet.waitedMs).toBeGreaterThanOrEqual(79);
    expect(performance.now() - client.lastUpdateAt).toBeGreaterThanOrEqual(79);
    const controller = new AbortController();
    const pending = client.waitForUpdate({ timeoutMs: 5000, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toSatisfy((error) => NexoraError.is(error, 'aborted'));
    tracker.dispose();
  });
});

describe('RfbClient input and server messages', () => {
  it('sends key, pointer and cut-text events; surfaces bell and server cut text', async () => {
    const { client, peer } = await setUp();
    client.typeKeys(keyEventsForInput({ text: 'Hi\n', keys: ['ctrl+c'] }));
    client.pointer(10, 20, 1);
    client.sendCutText('café');
    await peer.waitForMessage((message) => message.type === 'cut-text');
    expect(peer.messages.filter((message) => message.type === 'key')).toEqual(
      keyEventsForInput({ text: 'Hi\n', keys: ['ctrl+c'] }).map((event) => ({ type: 'key', ...event })),
    );
    expect(peer.messages).toContainEqual({ type: 'pointer', x: 10, y: 20, buttonMask: 1 });
    expect(peer.messages).toContainEqual({ type: 'cut-text', text: 'café' });
    expect(() => client.pointer(-1, 0)).toThrow(NexoraError);
    expect(() => client.sendCutText('€')).toThrow(NexoraError);

    const bell = new Promise((resolve) => client.once('rfb-bell-ring', () => resolve('rang')));
    const cutText = new Promise((resolve) => client.once('rfb-cut-text-receive', resolve));
    const text = Buffer.from('from server é', 'latin1');
    const header = Buffer.alloc(8);
    header[0] = 3;
    header.writeUInt32BE(text.length, 4);
    peer.send(Buffer.concat([Buffer.from([2]), header, text]));
    expect(await bell).toBe('rang');
    expect(await cutText).toEqual({ text: 'from server é' });
  });
});

describe('RfbClient failures', () => {
  it('closes with rfb-protocol on a rectangle outside the framebuffer, failing writes and waits', async () => {
    const { client, peer } = await setUp();
    const closed = new Promise<{ error?: NexoraError }>((resolve) => client.once('rfb-connection-closed', resolve));
    const waiting = client.waitForUpdate({ timeoutMs: 5000 });
    peer.sendUpdate([encodeRaw(190, 0, makeTestImage(20, 2))]);
    const { error } = await closed;
    expect(error?.code).toBe('rfb-protocol');
    expect(error?.message).toContain('outside the 200x120 framebuffer');
    await expect(waiting).rejects.toSatisfy((caught) => NexoraError.is(caught, 'rfb-protocol'));
    expect(client.state).toBe('closed');
    expect(() => client.sendKey(0x61, true)).toThrow(NexoraError);
  });

  it.each([
    ['a ZRLE compression bomb', 'more than the', (peer: FakeRfbPeer) => {
      // 16 MiB of zeros deflates to ~16 KiB, within the compressed bound of a 200x120
      // rectangle, whose tiles may inflate to ~99 KiB at most.
      const bomb = peer.deflate('zrle', new Uint8Array(16 * 1024 * 1024));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bomb.length);
      return [rectHeader(0, 0, 200, 120, 16), length, bomb];
    }],
    ['a ZRLE rectangle claiming more compressed bytes than it could need', 'compressed bytes', () => [rectHeader(0, 0, 10, 10, 16), Buffer.from([0xff, 0xff, 0xff, 0xff])]],
    ['an unrequested Cursor pseudo-encoding', 'encoding -239 was not requested', () => [rectHeader(0, 0, 4, 4, -239)]],
    ['a CopyRect source outside the framebuffer', 'CopyRect source', () => [encodeCopyRect({ x: 0, y: 0, width: 10, height: 10, sourceX: 195, sourceY: 0 })]],
    ['a DesktopSize beyond the limits', 'exceeds the limits', () => [rectHeader(0, 0, 20000, 10, -223)]],
    ['an update whose CopyRects cover the screen more than 8 times', 'one update touches more than', () =>
      Array.from({ length: 12 }, () => encodeCopyRect({ x: 0, y: 0, width: 200, height: 120, sourceX: 0, sourceY: 0 })), 12],
  ] as Array<[string, string, (peer: FakeRfbPeer) => Buffer[], number?]>)('closes with rfb-protocol on %s', async (_name, message, rects, rectCount) => {
    const { client, peer } = await setUp();
    const closed = new Promise<{ error?: NexoraError }>((resolve) => client.once('rfb-connection-closed', resolve));
    const parts = rects(peer);
    const header = Buffer.alloc(4);
    header.writeUInt16BE(rectCount ?? 1, 2);
    peer.send(Buffer.concat([header, ...parts]));
    const { error } = await closed;
    expect(error?.code).toBe('rfb-protocol');
    expect(error?.message).toContain(message);
  });

  it('reconnects after the server drops the connection and re-requests a full update', async () => {
    const { server, client, peer } = await setUp({}, { reconnect: { attempts: 5, initialDelayMs: 10 } });
    const lost = new Promise((resolve) => client.once('rfb-connection-lost', resolve));
    const restored = new Promise<{ attempt: number }>((resolve) => client.once('rfb-connection-restored', resolve));
    peer.socket.destroy();
    await lost;
    expect(client.state).toBe('reconnecting');
    expect(() => client.sendKey(0x61, true)).toThrow(/being restored/);
    expect((await restored).attempt).toBe(1);
    const second = await server.peer(1);
    await second.waitForMessage((message) => message.type === 'update-request' && !message.incremental);
    const image = makeTestImage(30, 30, 9);
    await applied(client, () => second.sendUpdate([encodeRaw(0, 0, image)]));
    expect(client.framebuffer.equals(expectedFramebuffer(200, 120, [{ x: 0, y: 0, image }]))).toBe(true);
    client.sendKey(0x61, true);
    await second.waitForMessage((message) => message.type === 'key');
  });

  it('gives up after the bounded attempts when the server is gone', async () => {
    const { server, client } = await setUp({}, { reconnect: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
    const closed = new Promise<{ error?: NexoraError }>((resolve) => client.once('rfb-connection-closed', resolve));
    await server.close();
    const { error } = await closed;
    expect(error?.code).toBe('rfb-closed');
    expect(error?.message).toContain('after 3 attempts');
  });
});
