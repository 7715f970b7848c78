import { createServer, type Server, type Socket } from 'node:net';
import { Deflate, Z_SYNC_FLUSH } from 'pako';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { RfbClient } from './rfb-client.js';
import { encodeCopyRect, encodeHextile, encodeRaw, encodeZlib, encodeZrle, makeTestImage, rectHeader } from './testing/rect-encoders.js';

/** xorshift32: reproducible cases; a failure names its seed. */
function createRandom(seed: number): { next(): number; below(limit: number): number } {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  return { next, below: (limit) => Math.floor(next() * limit) };
}

function deflater(): (data: Uint8Array) => Buffer {
  const deflate = new Deflate({ level: 6 });
  return (data) => {
    const chunks: Uint8Array[] = [];
    deflate.onData = (chunk) => chunks.push(chunk);
    deflate.push(data, Z_SYNC_FLUSH);
    return Buffer.concat(chunks);
  };
}

function update(rects: Buffer[], count = rects.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(count, 2);
  return Buffer.concat([header, ...rects]);
}

/** Everything a server sends in a valid session with security None: handshake, then every message kind. */
function validHandshake(): Buffer {
  const init = Buffer.alloc(24);
  init.writeUInt16BE(64, 0);
  init.writeUInt16BE(48, 2);
  init.writeUInt32BE(4, 20);
  return Buffer.concat([Buffer.from('RFB 003.008\n'), Buffer.from([1, 1]), Buffer.alloc(4), init, Buffer.from('fuzz')]);
}

function validSession(): Buffer {
  const zlib = deflater();
  const zrle = deflater();
  const image = makeTestImage(40, 30, 5, 16);
  const cutText = Buffer.alloc(8);
  cutText[0] = 3;
  cutText.writeUInt32BE(3, 4);
  const colourMap = Buffer.from([1, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6]);
  return Buffer.concat([
    validHandshake(),
    update([encodeRaw(0, 0, makeTestImage(8, 6, 2)), encodeCopyRect({ x: 10, y: 10, width: 8, height: 6, sourceX: 0, sourceY: 0 })]),
    update([encodeHextile(3, 2, image)]),
    Buffer.from([2]),
    cutText,
    Buffer.from('abc'),
    colourMap,
    update([encodeZlib(20, 10, image, zlib), encodeZrle(1, 1, image, zrle)]),
    update([encodeZrle(20, 15, image, zrle), encodeZlib(0, 0, image, zlib), rectHeader(0, 0, 0, 0, -224)], 0xffff),
    update([rectHeader(0, 0, 80, 60, -223), encodeRaw(70, 50, makeTestImage(10, 10, 3))]),
  ]);
}

type Random = ReturnType<typeof createRandom>;

function randomBytes(random: Random, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => random.below(256)));
}

function mutate(random: Random, input: Buffer): Buffer {
  let data = Buffer.from(input);
  const boundaries = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 16384, 16385];
  for (let count = 1 + random.below(4); count > 0; count--) {
    const at = random.below(Math.max(1, data.length));
    switch (random.below(6)) {
      case 0:
        if (data.length > 0) data[at] = data[at]! ^ (1 << random.below(8));
        break;
      case 1:
        data = Buffer.concat([data.subarray(0, at), randomBytes(random, 1 + random.below(8)), data.subarray(at)]);
        break;
      case 2:
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + random.below(16))]);
        break;
      case 3:
        data = data.subarray(0, at);
        break;
      case 4: {
        const value = boundaries[random.below(boundaries.length)]!;
        if (at + 4 <= data.length) {
          if (value > 0xffff || random.next() < 0.5) data.writeUInt32BE(value >>> 0, at);
          else data.writeUInt16BE(value & 0xffff, at);
        }
        break;
      }
      default: {
        const end = Math.min(data.length, at + 1 + random.below(64));
        data = Buffer.concat([data.subarray(0, end), data.subarray(at, end), data.subarray(end)]);
      }
    }
  }
  return data;
}

interface Case {
  seed: number;
  script: Buffer;
}

let server: Server;
let port = 0;
const scripts: Array<Case> = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  // Each accepted connection plays the next script in random chunks, then ends: a server
  // that never listens to the client, so every byte the client sees is the fuzzer's.
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const next = scripts.shift();
    if (!next) return void socket.destroy();
    const random = createRandom(next.seed ^ 0x5bd1e995);
    void (async () => {
      let offset = 0;
      while (offset < next.script.length && !socket.destroyed) {
        const size = random.next() < 0.3 ? 1 + random.below(4) : 1 + random.below(4096);
        socket.write(next.script.subarray(offset, offset + size));
        offset += size;
        if (random.next() < 0.2) await new Promise((resolve) => setImmediate(resolve));
      }
      socket.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const limits = { maxFramebufferPixels: 256 * 256, maxUpdatePixels: 4 * 256 * 256, maxCutTextBytes: 4096 };

interface CaseResult {
  problem?: string;
  /** How it ended: the error code, or `open` for a client that was closed by the test. */
  ending: string;
  width: number;
}

/** Runs one case: it must end in a NexoraError or a clean close, within the per-case deadline. */
async function runCase(testCase: Case): Promise<CaseResult> {
  scripts.push(testCase);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CaseResult>((resolve) => {
    timer = setTimeout(() => resolve({ problem: 'hang: no error and no close within 3 s', ending: 'hang', width: 0 }), 3000);
  });
  const outcome = (async (): Promise<CaseResult> => {
    let client: RfbClient;
    try {
      client = await RfbClient.connect({ host: '127.0.0.1', port, reconnect: false, timeoutMs: 2500, limits });
    } catch (error) {
      return NexoraError.is(error) ? { ending: error.code, width: 0 } : { problem: `connect threw a non-Nexora error: ${String(error)}`, ending: 'bug', width: 0 };
    }
    const closed = client.state === 'closed' ? { error: client.closeError } : await new Promise<{ error?: NexoraError }>((resolve) => client.once('rfb-connection-closed', resolve));
    if (!NexoraError.is(closed.error)) return { problem: `closed without a NexoraError: ${String(closed.error)}`, ending: 'bug', width: client.width };
    return { ending: closed.error.code, width: client.width };
  })();
  const result = await Promise.race([outcome, deadline]);
  clearTimeout(timer);
  if (result.problem) result.problem = `seed ${testCase.seed} (${testCase.script.length} bytes): ${result.problem}`;
  return result;
}

async function runCases(cases: Case[]): Promise<{ problems: string[]; peakBytes: number; endings: Map<string, number> }> {
  const problems: string[] = [];
  const endings = new Map<string, number>();
  const baseline = process.memoryUsage();
  let peakBytes = 0;
  // Serial: the server hands scripts out in connection order.
  for (const testCase of cases) {
    const result = await runCase(testCase);
    if (result.problem) problems.push(result.problem);
    endings.set(result.ending, (endings.get(result.ending) ?? 0) + 1);
    const usage = process.memoryUsage();
    peakBytes = Math.max(peakBytes, usage.arrayBuffers - baseline.arrayBuffers + usage.heapUsed - baseline.heapUsed);
    if (problems.length >= 5) break;
  }
  return { problems, peakBytes, endings };
}

describe('RfbClient against hostile servers', () => {
  it('survives the valid session itself', async () => {
    // It ends only because the server hangs up after the last update (80x60 after DesktopSize).
    expect(await runCase({ seed: 1, script: validSession() })).toEqual({ ending: 'rfb-closed', width: 80 });
  });

  it('ends every random byte stream in a clean error or close', async () => {
    const cases = Array.from({ length: 2000 }, (_, index) => {
      const random = createRandom(1000 + index);
      return { seed: 1000 + index, script: randomBytes(random, random.below(200)) };
    });
    const { problems } = await runCases(cases);
    expect(problems).toEqual([]);
  }, 120_000);

  it('ends random data after a valid handshake in a clean error or close', async () => {
    const cases = Array.from({ length: 3000 }, (_, index) => {
      const random = createRandom(5000 + index);
      // Start most messages with a real message type so the fuzz reaches the decoders.
      const body = randomBytes(random, 1 + random.below(600));
      body[0] = random.below(5);
      if (body[0] === 0 && body.length > 16) body.writeInt32BE([0, 1, 5, 6, 16, -223, -224, -239][random.below(8)]!, 12);
      return { seed: 5000 + index, script: Buffer.concat([validHandshake(), body]) };
    });
    const { problems } = await runCases(cases);
    expect(problems).toEqual([]);
  }, 120_000);

  it('ends every mutated valid stream in a clean error or close, without large allocations', async () => {
    const valid = validSession();
    const cases = Array.from({ length: 5000 }, (_, index) => {
      const random = createRandom(20_000 + index);
      return { seed: 20_000 + index, script: mutate(random, valid) };
    });
    const { problems, peakBytes, endings } = await runCases(cases);
    expect(problems).toEqual([]);
    // Both kinds of ending occur: the mutations reach the decoders rather than all dying early.
    expect(endings.get('rfb-protocol')).toBeGreaterThan(500);
    expect(endings.get('rfb-closed')).toBeGreaterThan(500);
    console.log('mutated-stream endings', Object.fromEntries(endings), 'peak bytes', peakBytes);
    // The limits cap the mirror at 256 KiB and updates near that; nothing may balloon.
    expect(peakBytes).toBeLessThan(256 * 1024 * 1024);
  }, 180_000);
});
