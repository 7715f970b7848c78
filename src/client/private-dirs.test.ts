import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { checkServerSocket, preparePrivateDirectory, securePrivateHome } from './private-dirs.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-private-dirs-'));
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(root, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
let count = 0;

function privateDir(mode = 0o700): string {
  const dir = join(root, `dir-${count++}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

async function listening(path: string): Promise<string> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, 0o600);
  return path;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(NexoraError.is(error, 'not-private')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('checkServerSocket', () => {
  it('absent when the directory or the socket is missing; present when both are private and the user’s', async () => {
    expect(checkServerSocket(join(root, 'missing', 'server.sock'))).toBe('absent');
    const dir = privateDir();
    expect(checkServerSocket(join(dir, 'server.sock'))).toBe('absent');
    expect(checkServerSocket(await listening(join(dir, 'server.sock')))).toBe('present');
  });

  it('refuses a directory others may enter, naming it, its mode and the fix, and leaves the socket', async () => {
    const dir = privateDir();
    const socket = await listening(join(dir, 'server.sock'));
    chmodSync(dir, 0o755);
    const message = refusal(() => checkServerSocket(socket));
    expect(message).toContain(`directory ${dir} is open to other users`);
    expect(message).toContain('mode 0755');
    expect(message).toContain(`chmod 700 ${dir}`);
    expect(message.split('\n')).toHaveLength(1);
    expect(existsSync(socket)).toBe(true);
  });

  it('refuses a socket others may connect to, and one that is not a socket', async () => {
    const dir = privateDir();
    const socket = await listening(join(dir, 'server.sock'));
    chmodSync(socket, 0o666);
    expect(refusal(() => checkServerSocket(socket))).toMatch(/server socket .* is open to other users \(owner uid \d+, mode 0666/);
    const file = join(privateDir(), 'server.sock');
    writeFileSync(file, '');
    chmodSync(file, 0o600);
    expect(refusal(() => checkServerSocket(file))).toContain('is not a socket');
    const link = join(privateDir(), 'server.sock');
    symlinkSync(socket, link);
    expect(refusal(() => checkServerSocket(link))).toContain('is not a socket');
  });

  it("follows the user's own link to a private directory (a home moved to another disk)", async () => {
    const target = privateDir();
    await listening(join(target, 'server.sock'));
    const link = join(root, `link-${count++}`);
    symlinkSync(target, link);
    expect(checkServerSocket(join(link, 'server.sock'))).toBe('present');
  });

  it.skipIf(!isRoot)("refuses another user's directory, socket or link, and says another user may be posing as the server", async () => {
    const theirs = privateDir();
    const inTheirs = await listening(join(theirs, 'server.sock'));
    lchownSync(theirs, 65534, 65534);
    const message = refusal(() => checkServerSocket(inTheirs));
    expect(message).toContain(`directory ${theirs} belongs to another user (owner uid 65534, mode 0700; you are uid 0)`);
    expect(message).toContain('another user may be posing as your Nexora server');

    const theirSocket = await listening(join(privateDir(), 'server.sock'));
    lchownSync(theirSocket, 65534, 65534);
    expect(refusal(() => checkServerSocket(theirSocket))).toContain('server socket');
    expect(existsSync(theirSocket)).toBe(true);

    const target = privateDir();
    await listening(join(target, 'server.sock'));
    const link = join(root, `link-${count++}`);
    symlinkSync(target, link);
    lchownSync(link, 65534, 65534);
    expect(refusal(() => checkServerSocket(join(link, 'server.sock')))).toContain("is another user's symbolic link");
  });
});

describe('preparePrivateDirectory', () => {
  it('creates the directory 0700, whatever the umask', () => {
    const dir = join(root, `runtime-${count++}`);
    const previous = process.umask(0o777);
    try {
      preparePrivateDirectory(dir);
    } finally {
      process.umask(previous);
    }
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    // Again: it exists and passes.
    preparePrivateDirectory(dir);
  });

  it('refuses one that exists with a wider mode, or as a link, and changes neither', () => {
    const wide = privateDir(0o777);
    expect(refusal(() => preparePrivateDirectory(wide))).toContain('mode 0777');
    expect(statSync(wide).mode & 0o777).toBe(0o777);
    const link = join(root, `link-${count++}`);
    symlinkSync(privateDir(), link);
    expect(refusal(() => preparePrivateDirectory(link))).toContain('is a symbolic link');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it.skipIf(!isRoot)("refuses another user's", () => {
    const theirs = privateDir();
    lchownSync(theirs, 65534, 65534);
    expect(refusal(() => preparePrivateDirectory(theirs))).toContain('belongs to another user');
  });
});

describe('securePrivateHome', () => {
  it('creates a missing home (and its parents) 0700', () => {
    const home = join(root, `parent-${count++}`, 'home');
    securePrivateHome(home, { create: true });
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, '..')).mode & 0o777).toBe(0o700);
  });

  it('tightens a home others may only read (as older versions made it) and refuses one they may write', () => {
    const readable = privateDir(0o755);
    securePrivateHome(readable, { create: false });
    expect(statSync(readable).mode & 0o777).toBe(0o700);
    const writable = privateDir(0o775);
    expect(refusal(() => securePrivateHome(writable, { create: false }))).toContain('is writable by other users');
    expect(statSync(writable).mode & 0o777).toBe(0o775);
  });

  it('leaves a missing home alone when not asked to create it', () => {
    const home = join(root, `absent-${count++}`);
    securePrivateHome(home, { create: false });
    expect(existsSync(home)).toBe(false);
  });

  it.skipIf(!isRoot)("refuses another user's home", () => {
    const theirs = privateDir();
    lchownSync(theirs, 65534, 65534);
    expect(refusal(() => securePrivateHome(theirs, { create: true }))).toContain('set NEXORA_HOME to a directory of your own');
  });
});
