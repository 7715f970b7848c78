import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maxSocketPath, serverFiles, socketPlace } from './server-files.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-server-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const uid = process.getuid?.() ?? 0;
const shortHome = join(root, 'home');
const longHome = join(root, 'a-home-whose-path-is-too-long-for-a-unix-socket'.repeat(2), 'nexora');
const temporary = join(root, 'tmp');
mkdirSync(temporary);

function runtimeDir(name: string, mode = 0o700): string {
  const dir = join(root, name);
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

describe('where the server socket goes', () => {
  it('in the home when the path fits', () => {
    expect(socketPlace({ home: shortHome, env: { TMPDIR: temporary }, uid })).toEqual({ socket: join(shortHome, 'server.sock'), socketDir: shortHome, socketInHome: true });
    expect(serverFiles({ home: shortHome, logs: join(shortHome, 'logs') }, {}).lock).toBe(join(shortHome, 'server.pid'));
  });

  it('a long home: in a per-user directory of the temporary directory, never a name directly in it', () => {
    const place = socketPlace({ home: longHome, env: { TMPDIR: `${temporary}/` }, uid });
    expect(place.socketInHome).toBe(false);
    expect(place.socketDir).toBe(join(temporary, `nexora-${uid}`));
    expect(dirname(place.socket)).toBe(place.socketDir);
    expect(place.socket).toMatch(/\/[0-9a-f]{16}\.sock$/);
    expect(place.socket.length).toBeLessThanOrEqual(maxSocketPath);
    // One per home, the same for everyone who asks with the same environment.
    expect(socketPlace({ home: longHome, env: { TMPDIR: temporary }, uid })).toEqual(place);
    expect(socketPlace({ home: `${longHome}-2`, env: { TMPDIR: temporary }, uid }).socket).not.toBe(place.socket);
    // Read from the environment given (the one the server is started with), not this process's.
    expect(socketPlace({ home: longHome, env: {}, uid }).socketDir).toBe(`/tmp/nexora-${uid}`);
  });

  it('a long home: in $XDG_RUNTIME_DIR when it is a real directory of the user with mode 0700', () => {
    const xdg = runtimeDir('xdg');
    const place = socketPlace({ home: longHome, env: { XDG_RUNTIME_DIR: xdg, TMPDIR: temporary }, uid });
    expect(place.socketDir).toMatch(new RegExp(`^${xdg}/nexora-[0-9a-f]{16}$`));
    expect(place.socket).toBe(join(place.socketDir, 'server.sock'));
  });

  it.each([
    ['group and others may enter it', () => runtimeDir('xdg-0755', 0o755)],
    ['it does not exist', () => join(root, 'no-such-dir')],
    ['it is a link (to a private directory)', () => {
      const link = join(root, 'xdg-link');
      symlinkSync(runtimeDir('xdg-target'), link);
      return link;
    }],
    ['it is relative', () => 'run/user'],
    ['the socket would not fit in it', () => runtimeDir('x'.repeat(80))],
  ])('a long home: not in $XDG_RUNTIME_DIR when %s', (_reason, make) => {
    const place = socketPlace({ home: longHome, env: { XDG_RUNTIME_DIR: make(), TMPDIR: temporary }, uid });
    expect(place.socketDir).toBe(join(temporary, `nexora-${uid}`));
  });

  it.skipIf(uid !== 0)("a long home: not in $XDG_RUNTIME_DIR when it is another user's", () => {
    const xdg = runtimeDir('xdg-nobody');
    lchownSync(xdg, 65534, 65534);
    expect(socketPlace({ home: longHome, env: { XDG_RUNTIME_DIR: xdg, TMPDIR: temporary }, uid }).socketDir).toBe(join(temporary, `nexora-${uid}`));
  });
});
