import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, renameSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nexora } from '../../src/sdk/index.js';
import { cliRun } from '../fixtures/cli-run.js';
import { eventually } from '../fixtures/eventually.js';
import { cliPath, runCli } from '../fixtures/run-cli.js';

/**
 * Issue 20, finding 5: another local user squats the server's socket. The attacker is a real
 * second uid (nobody, 65534) running its own process: it binds the socket name a client would
 * use, answers /v1/health with the right build id (so an unchecked client takes it for the
 * server) and records every byte it is sent. The user's client must send it nothing — above
 * all not `PUT /v1/keys/...` with the key — and say why, or use a private socket elsewhere.
 */
const isRoot = process.getuid?.() === 0;
const nobody = { uid: 65534, gid: 65534 };
const repoRoot = join(import.meta.dirname, '..', '..');
// A key nobody could mistake: if any of it reaches the squatter, the test says so.
const canary = `sk-SQUAT-CANARY-${Math.random().toString(36).slice(2, 12)}-Z7Q4`;

const squatterScript = `
const { createServer } = require('node:net');
const { chmodSync, mkdirSync } = require('node:fs');
const options = JSON.parse(process.argv[2]);
if (options.makeDir) { mkdirSync(options.makeDir, { mode: 0o777 }); chmodSync(options.makeDir, 0o777); }
let connections = 0;
let bytes = '';
const health = JSON.stringify({ ok: true, version: options.build.split('+')[0], build: options.build, pid: process.pid, home: options.home,
  store: { kind: 'pglite', location: options.home + '/db' }, startedAt: new Date().toISOString(), admission: { limit: 2, running: 0, waiting: 0 }, tcp: null });
const stored = JSON.stringify({ provider: 'openai', key: '…Z7Q4', createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), expiresAt: null });
const server = createServer((connection) => {
  connections += 1;
  connection.on('error', () => undefined);
  connection.on('data', (chunk) => {
    bytes += chunk.toString('latin1');
    if (!/^[A-Z]+ \\/\\S* HTTP\\/1\\.1/.test(chunk.toString('latin1'))) return;
    const body = chunk.includes('/v1/health') ? health : stored;
    connection.write('HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body);
  });
});
server.listen(options.socket, () => { chmodSync(options.socket, 0o777); process.stdout.write('listening\\n'); });
process.stdin.resume();
process.stdin.on('end', () => { process.stdout.write(JSON.stringify({ connections, bytes }) + '\\n'); process.exit(0); });
`;

interface Squatter {
  /** Stops it and returns what it was sent. */
  received(): Promise<{ connections: number; bytes: string }>;
}

describe.skipIf(!isRoot)('a second local user cannot stand in for the server (the tests run as root: the squatter is nobody)', { timeout: 900_000 }, () => {
  const run = cliRun('socket-squat');
  const squatters: ChildProcessByStdio<Writable, Readable, null>[] = [];
  let build = '';
  let script = '';
  let count = 0;

  beforeAll(async () => {
    // nobody must reach the shared directories below the root (enter, not list).
    chmodSync(run.root, 0o711);
    build = ((await import(pathToFileURL(join(repoRoot, 'dist', 'client', 'version.js')).href)) as { buildId(): string }).buildId();
    script = join(sharedTemporary(), 'squatter.cjs');
    writeFileSync(script, squatterScript, { mode: 0o644 });
  });

  afterAll(async () => {
    for (const squatter of squatters) squatter.kill('SIGKILL');
    await run.cleanUp();
  });

  /** A temporary directory shared by all users, as /tmp is (world-writable, sticky): one per case, so no real /tmp name is touched. */
  function sharedTemporary(): string {
    const dir = join(run.root, `tmp${count++}`);
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    return dir;
  }

  /** A home whose socket path is too long for the home (the case that used to fall back to a /tmp name). */
  function longHome(): string {
    return join(run.root, `home-${count++}-with-a-path-long-enough-that-its-socket-would-not-fit-a-sockaddr-un`, 'nexora');
  }

  function hashOf(home: string): string {
    return createHash('sha256').update(home).digest('hex').slice(0, 16);
  }

  async function squat(options: { socket: string; home: string; makeDir?: string }): Promise<Squatter> {
    const child = spawn(process.execPath, [script, JSON.stringify({ ...options, build })], { ...nobody, env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'inherit'] });
    squatters.push(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await eventually(
      () => Promise.resolve(output),
      (text) => text.startsWith('listening\n') || child.exitCode !== null,
      'the squatter listening',
    );
    expect(output).toBe('listening\n');
    return {
      received: async () => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin.end();
        await exited;
        return JSON.parse(output.split('\n').at(-2) ?? '{}') as { connections: number; bytes: string };
      },
    };
  }

  async function environment(home: string, shared: string): Promise<NodeJS.ProcessEnv> {
    return run.env(home, { TMPDIR: shared, XDG_RUNTIME_DIR: '' });
  }

  it('a long home: the old /tmp socket name, bound first and answering with the right build, is sent nothing; the key goes to a private socket', async () => {
    const shared = sharedTemporary();
    const home = longHome();
    const env = await environment(home, shared);
    // Where versions before this fix put the socket, and so where the attacker waits.
    const squatter = await squat({ socket: join(shared, `nexora-${hashOf(home)}.sock`), home });

    const set = await runCli(['keys', 'set', 'openai'], { env, input: `${canary}\n`, timeoutMs: 300_000 });
    // The SDK, which sends the caller's environment with a run, looks for the server the same
    // way. (The built SDK: the server is the built one, and a client of another build is refused.)
    const built = (await import(pathToFileURL(join(repoRoot, 'dist', 'sdk', 'index.js')).href)) as { Nexora: typeof Nexora };
    const sdkServer = await built.Nexora.connect({ env, autoStart: false }).then(
      (nx) => {
        nx.close();
        return nx.server.build;
      },
      (error: unknown) => error,
    );

    const received = await squatter.received();
    expect(received.bytes).not.toContain('PUT /v1/keys');
    expect(received.bytes).not.toContain(canary);
    expect(received).toEqual({ connections: 0, bytes: '' });
    expect(set.stdout).toContain('Stored the openai key …Z7Q4');
    expect(set.code).toBe(0);
    expect(sdkServer).toBe(build);

    // The real server has the key, on a socket in a directory only this user may enter.
    const list = await runCli(['keys', 'list'], { env });
    expect(list.stdout).toMatch(/^openai\s+…Z7Q4/m);
    const status = await runCli(['server', 'status'], { env });
    const socket = /^socket\s+(\S+)/m.exec(status.stdout)?.[1] ?? '';
    expect(socket).toBe(join(shared, 'nexora-0', `${hashOf(home)}.sock`));
    const dir = lstatSync(join(shared, 'nexora-0'));
    expect({ directory: dir.isDirectory(), uid: dir.uid, mode: dir.mode & 0o777 }).toEqual({ directory: true, uid: 0, mode: 0o700 });
    expect(lstatSync(socket).mode & 0o077).toBe(0);
  });

  it("the per-user directory made first by another user: refused by the CLI, the SDK and `serve` before connecting, and left in place", async () => {
    const shared = sharedTemporary();
    const home = longHome();
    const env = await environment(home, shared);
    const dir = join(shared, 'nexora-0');
    const socket = join(dir, `${hashOf(home)}.sock`);
    const squatter = await squat({ socket, home, makeDir: dir });

    const set = await runCli(['keys', 'set', 'openai'], { env, input: `${canary}\n` });
    expect(set.code).toBe(1);
    expect(set.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(set.stderr).toContain(`The server socket's directory ${dir} belongs to another user (owner uid 65534, mode 0777; you are uid 0)`);
    expect(set.stderr).toContain('another user may be posing as your Nexora server');
    // Not taken for "no server": none was started.
    expect(existsSync(join(home, 'server.pid'))).toBe(false);

    await expect(Nexora.connect({ env })).rejects.toMatchObject({ code: 'not-private' });
    await expect(Nexora.connect({ env, address: { socketPath: socket } })).rejects.toMatchObject({ code: 'not-private' });

    // The server itself will not listen there, nor remove what it found.
    const serve = await runCli(['serve'], { env, timeoutMs: 300_000 });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain(`The server socket's directory ${dir} belongs to another user`);

    const received = await squatter.received();
    expect(received).toEqual({ connections: 0, bytes: '' });
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(lstatSync(dir).uid).toBe(65534);
  });

  it('a socket directory of the user opened to all (0777), a socket of another uid in the home, and a home others may write: each refused, nothing sent, nothing removed', async () => {
    // The per-user directory, the user's own but mode 0777: the squatter could bind in it.
    const shared = sharedTemporary();
    const home = longHome();
    const env = await environment(home, shared);
    const dir = join(shared, 'nexora-0');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const socket = join(dir, `${hashOf(home)}.sock`);
    const inOpenDir = await squat({ socket, home });
    const open = await runCli(['keys', 'set', 'openai'], { env, input: `${canary}\n` });
    expect(open.code).toBe(1);
    expect(open.stderr).toContain(`The server socket's directory ${dir} is open to other users (owner uid 0, mode 0777; you are uid 0)`);
    expect(open.stderr).toContain(`chmod 700 ${dir}`);
    expect(await inOpenDir.received()).toEqual({ connections: 0, bytes: '' });
    expect(lstatSync(socket).uid).toBe(65534);

    // A short home, private, holding another uid's socket (bound elsewhere, moved in: its
    // owner is the squatter's and it still answers).
    const privateHome = join(run.root, `home-${count++}`);
    mkdirSync(privateHome, { mode: 0o700 });
    const homeEnv = await environment(privateHome, sharedTemporary());
    const bound = join(sharedTemporary(), 'bound.sock');
    const inHome = await squat({ socket: bound, home: privateHome });
    renameSync(bound, join(privateHome, 'server.sock'));
    const theirs = await runCli(['keys', 'set', 'openai'], { env: homeEnv, input: `${canary}\n` });
    expect(theirs.code).toBe(1);
    expect(theirs.stderr).toContain(`The server socket ${join(privateHome, 'server.sock')} belongs to another user (owner uid 65534`);
    await expect(Nexora.connect({ env: homeEnv, address: { socketPath: join(privateHome, 'server.sock') } })).rejects.toMatchObject({ code: 'not-private' });
    expect(await inHome.received()).toEqual({ connections: 0, bytes: '' });
    expect(lstatSync(join(privateHome, 'server.sock')).uid).toBe(65534);

    // A home others may write: the squatter binds the socket in it directly.
    const sharedHome = join(run.root, `home-${count++}`);
    mkdirSync(sharedHome);
    chmodSync(sharedHome, 0o777);
    const sharedHomeEnv = await environment(sharedHome, sharedTemporary());
    const inSharedHome = await squat({ socket: join(sharedHome, 'server.sock'), home: sharedHome });
    const writable = await runCli(['keys', 'set', 'openai'], { env: sharedHomeEnv, input: `${canary}\n` });
    expect(writable.code).toBe(1);
    expect(writable.stderr).toContain(`The Nexora home ${sharedHome} is writable by other users (owner uid 0, mode 0777`);
    expect(await inSharedHome.received()).toEqual({ connections: 0, bytes: '' });
    expect(statSync(sharedHome).mode & 0o777).toBe(0o777);
  });

  it('a home auto-started under umask 000 is 0700, and the socket is private from the moment it exists', async () => {
    const shared = sharedTemporary();
    const home = longHome();
    const env = await environment(home, shared);
    // The user's per-user directory, there already (made by an earlier server): watched, so the
    // socket is seen as it is created.
    const dir = join(shared, 'nexora-0');
    mkdirSync(dir, { mode: 0o700 });
    const name = `${hashOf(home)}.sock`;
    const seen: { event: string; mode: number | undefined }[] = [];
    let flushed = (): void => undefined;
    const watcher = watch(dir, (event, file) => {
      if (file === name) seen.push({ event, mode: lstatSync(join(dir, name), { throwIfNoEntry: false })?.mode });
      if (file === 'flush') flushed();
    });
    try {
      const started = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', 'umask 000 && exec "$0" "$1" server start', process.execPath, cliPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        child.once('error', reject);
        child.once('exit', (code) => resolve({ code, output }));
      });
      expect(started.output).toContain('started: pid');
      expect(started.code).toBe(0);
      // inotify delivers in order: once a file made now is seen, so is any chmod of the socket before it.
      await new Promise<void>((resolve) => {
        flushed = resolve;
        writeFileSync(join(dir, 'flush'), '');
      });
    } finally {
      watcher.close();
    }
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'logs')).mode & 0o777).toBe(0o700);
    expect(seen.length).toBeGreaterThan(0);
    expect((seen[0]?.mode ?? 0o777) & 0o077).toBe(0);
    // Created once with its mode, never changed after (a chmod is an attribute change: "change").
    expect(seen.map((event) => event.event)).toEqual(seen.map(() => 'rename'));
    expect(lstatSync(join(dir, name)).mode & 0o777).toBe(0o700);
  });
});
