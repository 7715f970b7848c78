import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthBody } from '../src/client/api-schemas.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { cliPath, runCli } from './fixtures/run-cli.js';

// The server as a user runs it (the built CLI): one per home, its socket, its TCP listener
// with a token, validation, OpenAPI, and what it leaves when killed.

const root = mkdtempSync(join(tmpdir(), 'nexora-server-api-'));
const home = join(root, 'home');
const env = { NEXORA_HOME: home, DATABASE_URL: '', CI: '1' };
const files = serverFiles({ home, logs: join(home, 'logs') });
let client: NexoraClient;
let health: HealthBody;

function serve(extra: string[] = []): { exited: Promise<{ code: number | null; stderr: string }>; pid: number | undefined; kill: (signal: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [cliPath, 'serve', ...extra], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {
    exited: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))),
    pid: child.pid,
    kill: (signal) => child.kill(signal),
  };
}

async function waitForHealth(timeoutMs = 400_000): Promise<HealthBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await client.get<HealthBody>('/v1/health', { timeoutMs: 5000 });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function tcp(options: { path: string; method?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: health.tcp?.port, path: options.path, method: options.method ?? 'GET', headers: options.headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let first: ReturnType<typeof serve>;

beforeAll(async () => {
  client = new NexoraClient({ socketPath: files.socket });
  first = serve(['--port', '0']);
  health = await waitForHealth();
});

afterAll(async () => {
  client.close();
  first.kill('SIGTERM');
  await first.exited;
  rmSync(root, { recursive: true, force: true });
});

describe('nexora serve', () => {
  it('answers on a socket only its owner can open, with its pid and store', () => {
    expect(health.pid).toBe(first.pid);
    expect(health.store.kind).toBe('pglite');
    // Bound under umask 077: no bit for the group or others from its creation (the x bit means nothing on a socket).
    expect(statSync(files.socket).mode & 0o777).toBe(0o700);
    expect(readFileSync(files.lock, 'utf8').trim()).toBe(String(first.pid));
    expect(readFileSync(files.log, 'utf8')).toContain(`listening on ${files.socket}`);
  });

  it('refuses a second server on the same home, naming the first one’s pid', async () => {
    const second = await serve().exited;
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`A Nexora server already runs for this home (pid ${first.pid})`);
    expect((await client.get<HealthBody>('/v1/health')).pid).toBe(first.pid);
  });

  it('a command whose environment names another store refuses the running server instead of working on its store', async () => {
    const elsewhere = await runCli(['keys', 'list'], { env: { ...env, DATABASE_URL: 'postgres://nexora@127.0.0.1:1/another' } });
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain(`The running Nexora server (pid ${first.pid}) uses another store (pglite at `);
    expect(elsewhere.stderr).toContain('`nexora server stop`');
    expect(elsewhere.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(elsewhere.stdout).toBe('');
    // Nothing happened to the server.
    expect((await client.get<HealthBody>('/v1/health')).pid).toBe(first.pid);
  });

  it('a command whose environment names another engine is refused with the restart command, and the server keeps its own', async () => {
    expect(health.engine).toMatchObject({ DOCKER_HOST: process.env.DOCKER_HOST ?? null, NEXORA_BACKEND: null });
    const elsewhere = await runCli(['session', 'list'], { env: { ...env, DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain(`The running Nexora server (pid ${first.pid}) was started with another engine: DOCKER_HOST is ${process.env.DOCKER_HOST ?? 'unset'} there, tcp://127.0.0.1:1 here`);
    expect(elsewhere.stderr).toContain('`nexora server stop && nexora server start`');
    expect(elsewhere.stderr).not.toMatch(/at .*\.js:\d+/);
    const swarm = await runCli(['keys', 'list'], { env: { ...env, NEXORA_BACKEND: 'swarm' } });
    expect(swarm.stderr).toContain('NEXORA_BACKEND is unset there, swarm here');
    expect((await client.get<HealthBody>('/v1/health')).pid).toBe(first.pid);
  });

  it('a server that cannot start says why in this attempt only, not an earlier one', async () => {
    const other = join(root, 'failing-home');
    const attempt = (port: number) => runCli(['keys', 'list'], { env: { NEXORA_HOME: other, DATABASE_URL: `postgres://nexora@127.0.0.1:${port}/attempt${port}`, CI: '1' }, timeoutMs: 120_000 });
    const earlier = await attempt(1);
    expect(earlier.stderr).toContain('attempt1');
    const now = await attempt(2);
    expect(now.code).not.toBe(0);
    expect(now.stderr).toContain('The Nexora server did not start');
    expect(now.stderr).toContain('127.0.0.1:2/attempt2');
    expect(now.stderr).not.toContain('attempt1');
  });

  it('refuses TCP requests without the token, or with the wrong Host, and serves them with it', async () => {
    expect(health.tcp?.port).toBeGreaterThan(0);
    const token = readFileSync(files.token, 'utf8').trim();
    expect(statSync(files.token).mode & 0o777).toBe(0o600);
    const anonymous = await tcp({ path: '/v1/health' });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ error: { code: 'unauthorized' } });
    const wrongToken = await tcp({ path: '/v1/health', headers: { authorization: `Bearer ${token.slice(0, -1)}x` } });
    expect(wrongToken.status).toBe(401);
    const rebound = await tcp({ path: '/v1/health', headers: { authorization: `Bearer ${token}`, host: `evil.example:${health.tcp?.port}` } });
    expect(rebound.status).toBe(401);
    const allowed = await tcp({ path: '/v1/health', headers: { authorization: `Bearer ${token}` } });
    expect(allowed.status).toBe(200);
    expect((JSON.parse(allowed.body) as HealthBody).pid).toBe(first.pid);
  });

  it('answers an invalid body with a validation error naming the field', async () => {
    const relative = client.post('/v1/sessions', { workspaceDir: 'not/absolute' });
    await expect(relative).rejects.toMatchObject({ code: 'invalid-argument', field: 'workspaceDir' });
    await expect(relative).rejects.toThrow(/workspaceDir.*absolute path/);
    await expect(client.put('/v1/keys/openai', { apiKey: 42 })).rejects.toMatchObject({ code: 'invalid-argument', field: 'apiKey' });
    await expect(client.post('/v1/sessions/ses_x/keyboard', { text: 'hi', bogus: 1 })).rejects.toMatchObject({ code: 'invalid-argument' });
    // The tool's own limits, at the boundary: a wait of 0 ms is refused there, naming the field.
    await expect(client.post('/v1/sessions/ses_x/keyboard', { text: 'hi', timeoutMs: 0 })).rejects.toMatchObject({ code: 'invalid-argument', field: 'timeoutMs' });
    await expect(client.get('/v1/nothing-here')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('stores keys and never gives one back in full', async () => {
    const stored = await client.put<{ key: string }>('/v1/keys/openai', { apiKey: 'sk-test-secret-value-7788' });
    expect(stored.key).toBe('…7788');
    const listed = await client.raw('GET', '/v1/keys');
    expect(listed.bytes.toString()).toContain('…7788');
    expect(listed.bytes.toString()).not.toContain('sk-test-secret');
    const cli = await runCli(['keys', 'list'], { env });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/openai\s+…7788/);
    expect(cli.stderr).toBe('');
    await client.delete('/v1/keys/openai');
    await expect(client.delete('/v1/keys/openai')).rejects.toMatchObject({ code: 'secret-not-found' });
  });

  it('serves an OpenAPI 3.1 document that validates and covers every resource', async () => {
    const document = await client.get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('/v1/openapi.json');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    for (const path of ['/v1/sessions', '/v1/sessions/{id}', '/v1/sessions/{id}/screen', '/v1/sessions/{id}/keyboard', '/v1/sessions/{id}/execute', '/v1/runs', '/v1/pool', '/v1/keys/{provider}', '/v1/health']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const start = document.paths['/v1/sessions']?.post as { requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } } };
    expect(Object.keys(start.requestBody.content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['workspaceDir', 'usePool']));
  });
});

describe('a server that dies', () => {
  it('SIGKILLed: its stale lock and socket are replaced by the next command’s server', async () => {
    first.kill('SIGKILL');
    await first.exited;
    expect(existsSync(files.socket)).toBe(true);
    const listed = await runCli(['session', 'list'], { env, timeoutMs: 400_000 });
    expect(listed.code, listed.stderr).toBe(0);
    // Not a terminal: the note that a server was started stays off stderr.
    expect(listed.stderr).toBe('');
    const next = await client.get<HealthBody>('/v1/health');
    expect(next.pid).not.toBe(first.pid);
    expect(readFileSync(files.lock, 'utf8').trim()).toBe(String(next.pid));
    // A second command finds it running and says nothing about starting one.
    const again = await runCli(['keys', 'list'], { env });
    expect(again.stderr).toBe('');
    const stopped = await runCli(['server', 'stop'], { env, timeoutMs: 60_000 });
    expect(stopped.stdout).toContain(`stopped the server (pid ${next.pid})`);
    expect(existsSync(files.socket)).toBe(false);
    expect(existsSync(files.lock)).toBe(false);
    expect((await runCli(['server', 'status'], { env })).stdout).toMatch(/not running/);
  });
});
