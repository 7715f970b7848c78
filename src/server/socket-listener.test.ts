import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { listenOnPrivateSocket } from './socket-listener.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-socket-listener-'));
const servers: { close(): unknown }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
function place(kind: 'home' | 'runtime'): { socket: string; socketDir: string; socketInHome: boolean } {
  const socketDir = join(root, `${kind}-${count++}`);
  return { socket: join(socketDir, 'server.sock'), socketDir, socketInHome: kind === 'home' };
}

function server(): Server {
  const created = createServer((_request, response) => response.end('ok'));
  servers.push(created);
  return created;
}

async function rejection(promise: Promise<unknown>): Promise<NexoraError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!NexoraError.is(error)) throw new Error(`expected a NexoraError, got ${String(error)}`);
  return error;
}

describe('listenOnPrivateSocket', () => {
  it.each(['home', 'runtime'] as const)('in a %s directory: creates it 0700 and the socket with its final mode, even under umask 000', async (kind) => {
    const where = place(kind);
    mkdirSync(where.socketDir, { mode: 0o700 });
    const seen: { event: string; mode: number | undefined }[] = [];
    let flushed = (): void => undefined;
    const watcher = watch(where.socketDir, (event, name) => {
      if (name === 'server.sock') seen.push({ event, mode: lstatSync(where.socket, { throwIfNoEntry: false })?.mode });
      if (name === 'flush') flushed();
    });
    const previous = process.umask(0);
    try {
      await listenOnPrivateSocket(server(), where);
    } finally {
      process.umask(previous);
    }
    // The umask is the process's again: nothing else is created narrower than asked.
    expect(process.umask()).toBe(previous);
    // inotify delivers in order: once a file made after listen() is seen, so is any chmod before it.
    await new Promise<void>((resolve) => {
      flushed = resolve;
      writeFileSync(join(where.socketDir, 'flush'), '');
    });
    watcher.close();
    expect(lstatSync(where.socket).mode & 0o777).toBe(0o700);
    expect(lstatSync(where.socketDir).mode & 0o777).toBe(0o700);
    // Seen once, as it was created, already private; never changed after (a chmod is an attribute event).
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((event) => event.event === 'rename')).toBe(true);
    expect((seen[0]?.mode ?? 0) & 0o077).toBe(0);
  });

  it('replaces a stale socket of its own; refuses when a server answers on it', async () => {
    const where = place('runtime');
    mkdirSync(where.socketDir, { mode: 0o700 });
    const first = server();
    await listenOnPrivateSocket(first, where);
    expect((await rejection(listenOnPrivateSocket(server(), where))).code).toBe('server-running');
    // A dead server's socket: a process that bound it and was killed leaves the file behind.
    first.close();
    spawnSync(process.execPath, ['-e', `process.umask(0o077); require('node:net').createServer().listen(${JSON.stringify(where.socket)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(lstatSync(where.socket).isSocket()).toBe(true);
    await listenOnPrivateSocket(server(), where);
    expect(lstatSync(where.socket).isSocket()).toBe(true);
  });

  it('refuses a socket directory others may enter and a socket that is not private, leaving them in place', async () => {
    const wide = place('runtime');
    mkdirSync(wide.socketDir);
    chmodSync(wide.socketDir, 0o777);
    expect((await rejection(listenOnPrivateSocket(server(), wide))).code).toBe('not-private');
    expect(lstatSync(wide.socketDir).mode & 0o777).toBe(0o777);

    const open = place('runtime');
    mkdirSync(open.socketDir, { mode: 0o700 });
    writeFileSync(open.socket, 'not a socket');
    chmodSync(open.socket, 0o600);
    expect((await rejection(listenOnPrivateSocket(server(), open))).message).toContain('is not a socket');
    expect(existsSync(open.socket)).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)("refuses another user's socket in its own directory and does not remove it", async () => {
    const where = place('runtime');
    mkdirSync(where.socketDir, { mode: 0o700 });
    const theirs = createNetServer();
    servers.push(theirs);
    await new Promise<void>((resolve) => theirs.listen(where.socket, resolve));
    chmodSync(where.socket, 0o600);
    lchownSync(where.socket, 65534, 65534);
    expect((await rejection(listenOnPrivateSocket(server(), where))).message).toContain('belongs to another user');
    expect(lstatSync(where.socket).uid).toBe(65534);
  });

  it('says how to fix a socket path too long for a Unix socket', async () => {
    const socketDir = join(root, 'x'.repeat(100));
    const error = await rejection(listenOnPrivateSocket(server(), { socket: join(socketDir, 'server.sock'), socketDir, socketInHome: false }));
    expect(error.code).toBe('invalid-config');
    expect(error.message).toContain('set TMPDIR (or NEXORA_HOME) to a shorter path');
    expect(existsSync(socketDir)).toBe(false);
  });
});
