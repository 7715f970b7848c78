import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nexoraPaths } from '../src/paths.js';
import { EventStore, newSessionId, openDatabase, SessionStore, type SessionId } from '../src/store/index.js';
import { encodePng } from '../src/tools/png-encode.js';
import { ScreenshotArchive } from '../src/viewer/screenshot-archive.js';

/**
 * `nexora session export` through the real CLI on a real PGlite store: a recorded run with a
 * take-over and a screenshot comes out as readable Markdown (and JSON) with the PNG alongside.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
let home: string;
let sessionId: SessionId;
let env: NodeJS.ProcessEnv;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href, join(root, 'src/cli/main.ts'), ...args], { env, cwd: home });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'nexora-export-'));
  env = { ...process.env, NEXORA_HOME: home, DATABASE_URL: '' };
  const db = await openDatabase({ env, waitMs: 10_000 });
  try {
    sessionId = newSessionId();
    await new SessionStore(db).create({ id: sessionId, userId: 'local', model: 'anthropic/test-model', provider: 'anthropic', workspaceDir: '/tmp/project' });
    const events = new EventStore(db);
    const record = (kind: string, payload: unknown, durationMs?: number) => events.record({ sessionId, kind, payload, ...(durationMs !== undefined ? { durationMs } : {}) });
    await record('run-start', { sessionId, task: 'make the tests pass', candidates: ['anthropic/test-model'], maxSteps: 5 });
    await record('step-start', { step: 1, model: 'anthropic/test-model' });
    await record('tool-call-start', { step: 1, toolCallId: 'c1', toolName: 'keyboard', input: { text: 'npm test\n' } });
    await record('tool-call-end', { step: 1, toolCallId: 'c1', toolName: 'keyboard', summary: '9 keys, 3 lines changed', isError: false, durationMs: 212, imageSent: false }, 212);
    const archive = new ScreenshotArchive({
      root: nexoraPaths(env).screenshots,
      sessionId,
      onSaved: async (saved) => {
        await record('screen-capture', { file: saved.file, width: saved.width, height: saved.height });
      },
    });
    await archive.save(encodePng(new Uint8Array(8 * 6 * 4).fill(200), 8, 6), { width: 8, height: 6 });
    // Screen text and model output are untrusted: markup in them must stay text.
    await record('conversation-append', { role: 'user', text: 'make the tests pass' });
    const cost = { inputTokens: 1200, outputTokens: 80, cachedInputTokens: 0, usd: 0.0048 };
    await record('step-end', { step: 1, model: 'anthropic/test-model', text: 'Running the tests.', toolCalls: 1, finishReason: 'tool-calls', cost, sessionCost: cost, durationMs: 900 }, 900);
    await record('control-take', { by: 'person' });
    await record('human-input', { text: 'q\n', clicks: [{ x: 10, y: 20, button: 'left' }] });
    await record('control-return', { to: 'agent' });
    await record('step-start', { step: 2, model: 'anthropic/test-model' });
    await record('tool-call-start', { step: 2, toolCallId: 'c2', toolName: 'execute', input: { command: 'echo "<script>alert(1)</script>"' } });
    await archive.save(encodePng(new Uint8Array(10 * 4 * 4).fill(90), 10, 4), { width: 10, height: 4 });
    await record('tool-call-end', { step: 2, toolCallId: 'c2', toolName: 'execute', summary: 'exit code 0 <b>bold</b>', isError: false, durationMs: 30, imageSent: false }, 30);
    await record('step-end', { step: 2, model: 'anthropic/test-model', text: 'Checked <img src=x onerror=alert(2)>.', toolCalls: 1, finishReason: 'tool-calls', cost, sessionCost: cost, durationMs: 500 }, 500);
    await record('run-end', { outcome: 'completed', reason: 'The model reported the task done.', steps: 2, durationMs: 1500, cost, finalText: 'All ```tests``` pass.' }, 1500);
  } finally {
    await db.close();
  }
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('nexora session export', () => {
  it('writes a readable Markdown transcript with the screenshots alongside', async () => {
    const out = join(home, 'out-md');
    const result = await cli(['session', 'export', sessionId, '--format', 'md', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 screenshots');
    const markdown = readFileSync(join(out, 'transcript.md'), 'utf8');
    expect(markdown).toContain(`# Nexora session ${sessionId}`);
    expect(markdown).toContain('make the tests pass');
    expect(markdown).toContain('- **`keyboard`** `{"text":"npm test\\n"}`');
    expect(markdown).toContain('✓ `9 keys, 3 lines changed` (212 ms)');
    expect(markdown).toContain('a person took control');
    expect(markdown).toContain('typed `"q\\n"`, `left` click at (10, 20)');
    expect(markdown).toContain('## Result: `completed`');
    expect(markdown).toContain('**Total cost: $0.0048**');
    // A fence longer than the backticks inside the text.
    expect(markdown).toContain('````\nAll ```tests``` pass.\n````');
    const shots = readdirSync(join(out, 'screenshots')).sort((a, b) => Number(/-(\d+)\.png$/.exec(a)?.[1]) - Number(/-(\d+)\.png$/.exec(b)?.[1]));
    expect(shots).toHaveLength(2);
    expect(markdown).toContain(`](screenshots/${shots[0]})`);
    const png = PNG.sync.read(readFileSync(join(out, 'screenshots', shots[0] ?? '')));
    expect([png.width, png.height]).toEqual([8, 6]);
  });

  it('writes every event as JSON, and refuses a bad format or session id with a fix', async () => {
    const out = join(home, 'out-json');
    const result = await cli(['session', 'export', sessionId, '--format', 'json', '--out', out]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(readFileSync(join(out, 'transcript.json'), 'utf8')) as { session: { id: string }; events: { kind: string }[] };
    expect(parsed.session.id).toBe(sessionId);
    expect(parsed.events.map((event) => event.kind)).toContain('human-input');
    expect(parsed.events.filter((event) => event.kind === 'screen-capture')).toHaveLength(2);

    const bad = await cli(['session', 'export', sessionId, '--format', 'pdf', '--out', join(home, 'bad')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: use md, json or html/);
    expect(existsSync(join(home, 'bad'))).toBe(false);
    const missing = await cli(['session', 'export', 'ses_doesnotexist', '--out', join(home, 'missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ses_doesnotexist/);
  });

  it('writes one self-contained HTML page that opens in Chromium with the steps, the screenshots and a scrubber', async () => {
    const out = join(home, 'out-html');
    const result = await cli(['session', 'export', sessionId, '--format', 'html', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 screenshots');
    // Self-contained: nothing written beside it.
    expect(readdirSync(out)).toEqual(['transcript.html']);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith('file:') && !request.url().startsWith('data:')) requests.push(request.url());
      });
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(pathToFileURL(join(out, 'transcript.html')).href);
      await expect.poll(() => page.locator('article.step').count()).toBe(2);
      expect(await page.locator('h1').textContent()).toBe(`Nexora session ${sessionId}`);
      expect(await page.locator('#frame-0').textContent()).toContain('9 keys, 3 lines changed');
      // Markup from the session stays text.
      expect(await page.locator('#frame-1').textContent()).toContain('Checked <img src=x onerror=alert(2)>.');
      expect(await page.locator('#frame-1').textContent()).toContain('exit code 0 <b>bold</b>');
      expect(await page.locator('#frame-1 b').allTextContents()).toEqual(['execute']);
      // Both screenshots are embedded images that decode.
      const sizes = await page.locator('#transcript img.shot').evaluateAll((images) => images.map((image) => [(image as HTMLImageElement).naturalWidth, (image as HTMLImageElement).naturalHeight]));
      expect(sizes).toEqual([
        [8, 6],
        [10, 4],
      ]);
      // The scrubber starts at the last step and walks back to the first, screen and all.
      const shown = async (): Promise<[string | null, number]> => [await page.locator('#frame-label').textContent(), await page.locator('#screen').evaluate((image) => (image as HTMLImageElement).naturalWidth)];
      await expect.poll(shown).toEqual(['step 2 (2/2)', 10]);
      await page.locator('#scrubber').fill('0');
      await expect.poll(shown).toEqual(['step 1 (1/2)', 8]);
      expect(await page.locator('#frame-0').getAttribute('class')).toContain('current');
      await page.locator('#next').click();
      await expect.poll(shown).toEqual(['step 2 (2/2)', 10]);
      expect(requests).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
