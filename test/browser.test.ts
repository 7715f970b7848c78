import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserTools } from '../src/tools/browser/browser-tools.js';
import { startToolsWorkstation, type ToolsWorkstation } from './fixtures/tools-workstation.js';

// The browser tools against a real workstation's Chromium, on the display, with a small web
// app served inside the workstation at localhost.
let station: ToolsWorkstation;
let browser: BrowserTools;
const port = 8000;
const app = `http://localhost:${port}`;

beforeAll(async () => {
  station = await startToolsWorkstation('browser');
  browser = station.connected.tools.browser!;
  const source = readFileSync(join(import.meta.dirname, 'fixtures/web-app/app.py'));
  await station.connected.tools.execute(`cat > /tmp/app.py <<'NEXORA_EOF'\n${source.toString()}\nNEXORA_EOF`);
  await station.connected.tools.execute(`setsid python3 /tmp/app.py ${port} >/tmp/app.log 2>&1 < /dev/null &`);
  const up = await station.connected.tools.execute(`for i in $(seq 100); do curl -fsS -o /dev/null ${app}/ && exit 0; sleep 0.1; done; exit 1`, { timeoutMs: 30_000 });
  expect(up.exitCode).toBe(0);
}, 120_000);

afterAll(async () => {
  await station?.dispose();
});

/** The ref of the first snapshot line that matches, e.g. `button "Add one" [ref=e5]`. */
function refOf(snapshot: string, pattern: RegExp): string {
  const line = snapshot.split('\n').find((candidate) => pattern.test(candidate));
  const ref = line && /\[ref=(\w+)\]/.exec(line)?.[1];
  if (!ref) throw new Error(`no line matching ${String(pattern)} with a ref in:\n${snapshot}`);
  return ref;
}

/** Share of pixels with exactly this colour. */
function shareOf(png: Buffer, [red, green, blue]: [number, number, number]): number {
  const image = PNG.sync.read(png);
  let matching = 0;
  for (let offset = 0; offset < image.data.length; offset += 4) {
    if (image.data[offset] === red && image.data[offset + 1] === green && image.data[offset + 2] === blue) matching++;
  }
  return matching / (image.width * image.height);
}

describe('browser tools', () => {
  it('starts Chromium on first use and navigates to a server inside the workstation at localhost', async () => {
    const result = await browser.navigate({ url: `${app}/` });
    expect(result.note).toMatch(/Chromium started/);
    expect(result.isError).toBe(false);
    expect(['settled', 'network-busy']).toContain(result.wait?.outcome);
    expect(result.text).toContain('HTTP 200');
    expect(result.text).toContain('Page: "Nexora test app" http://localhost:8000/');
  }, 90_000);

  it('reads the page as a snapshot with refs, clicks by ref and sees the change in the next snapshot', async () => {
    const first = await browser.snapshot({ full: true });
    expect(first.text).toMatch(/heading "Todo"/);
    expect(first.text).toContain('Clicked 0 times');
    const button = refOf(first.text, /button "Add one"/);
    const clicked = await browser.click({ ref: button });
    expect(clicked.isError).toBe(false);
    expect(clicked.wait?.outcome).toBe('settled');
    const second = await browser.snapshot();
    // Little changed: only the changed lines come back, and the button kept its ref.
    expect(second.snapshot?.kind).toBe('changes');
    expect(second.text).toContain('Clicked 1 times');
    expect(second.text).not.toContain('Your name');
    expect(refOf((await browser.snapshot({ full: true })).text, /button "Add one"/)).toBe(button);
  }, 60_000);

  it('selects an option, types into a field and submits: the next snapshot is the new page', async () => {
    const page = (await browser.snapshot({ full: true })).text;
    const selected = await browser.select({ ref: refOf(page, /combobox "Colour"/), values: ['blue'] });
    expect(selected.text).toContain('"blue"');
    const typed = await browser.type({ ref: refOf(page, /textbox "Your name"/), text: 'Ada', submit: true });
    expect(typed.isError).toBe(false);
    expect(typed.text).toContain('Page: "Greeting" http://localhost:8000/greet?name=Ada&color=blue');
    const after = await browser.snapshot();
    expect(after.text).toContain('Hello, Ada!');
    expect(after.text).toContain('Colour: blue');
  }, 60_000);

  it('reports the console error and the failed requests since the last look, once', async () => {
    await browser.navigate({ url: `${app}/` });
    const consoleLog = await browser.console();
    expect(consoleLog.text).toContain('console boom from the test app');
    const network = await browser.networkErrors();
    expect(network.text).toMatch(/404 .*\/missing-resource/);
    expect(network.text).toMatch(/127\.0\.0\.1:59999\/refused failed: net::ERR_CONNECTION_REFUSED/);
    expect((await browser.console()).text).toContain('No console errors');
    expect((await browser.networkErrors()).text).toContain('No failed requests');
  }, 60_000);

  it('takes a screenshot that decodes and shows the page, and screen() shows the browser window on the display', async () => {
    const shot = await browser.screenshot();
    const image = PNG.sync.read(shot.png!);
    expect(image.width).toBeGreaterThan(300);
    expect(shareOf(shot.png!, [20, 190, 120])).toBeGreaterThan(0.5);
    const full = await browser.screenshot({ fullPage: true });
    expect(PNG.sync.read(full.png!).height).toBeGreaterThanOrEqual(2400);
    const screen = await station.connected.tools.screen({ image: true });
    // The page's colour fills much of the display: Chromium is on the screen, not headless.
    expect(shareOf(screen.png!, [20, 190, 120])).toBeGreaterThan(0.3);
  }, 60_000);

  it('scrolls, presses keys, goes back and forward, and manages tabs', async () => {
    const scrolled = await browser.scroll({ direction: 'down' });
    expect(scrolled.text).toMatch(/viewport now shows y=[1-9]\d*/);
    const pressed = await browser.press({ key: 'Home' });
    expect(pressed.isError).toBe(false);
    await browser.navigate({ url: `${app}/greet?name=second` });
    const back = await browser.history({ action: 'back' });
    expect(back.text).toContain(`Page: "Nexora test app" ${app}/`);
    expect(back.isError, back.text).toBe(false);
    const forward = await browser.history({ action: 'forward' });
    expect(forward.text).toContain('name=second');
    expect(forward.isError, forward.text).toBe(false);
    const opened = await browser.tabs({ action: 'open', url: `${app}/greet?name=tab` });
    expect(opened.text).toMatch(/\* \[1\] "Greeting" .*name=tab/);
    const switched = await browser.tabs({ action: 'switch', index: 0 });
    expect(switched.text).toMatch(/\* \[0\] .*name=second/);
    const closed = await browser.tabs({ action: 'close', index: 1 });
    expect(closed.text).not.toContain('name=tab');
  }, 60_000);

  it('says a stale or unknown ref is one, without ending anything', async () => {
    const result = await browser.click({ ref: 'e9999', timeoutMs: 2000 });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/e9999/);
  }, 30_000);

  it('returns at its timeout, saying so, on a page that never finishes loading', async () => {
    const started = performance.now();
    const result = await browser.navigate({ url: `${app}/slow`, timeoutMs: 3000 });
    const took = performance.now() - started;
    expect(result.wait?.outcome).toBe('timeout');
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/Timed out: the page did not finish loading/);
    expect(took).toBeLessThan(3000 + 5000);
    expect(took).toBeGreaterThanOrEqual(2900);
  }, 30_000);

  it('restarts Chromium killed inside the workstation on the next call, and says so', async () => {
    const killed = await station.connected.tools.execute('kill -KILL $(cat /run/nexora/chromium.pid)');
    expect(killed.exitCode).toBe(0);
    const gone = await station.connected.tools.execute('for i in $(seq 100); do kill -0 $(cat /run/nexora/chromium.pid) 2>/dev/null || exit 0; sleep 0.1; done; exit 1');
    expect(gone.exitCode).toBe(0);
    const result = await browser.navigate({ url: `${app}/greet?name=again` });
    expect(result.note).toMatch(/restarted/);
    expect(result.isError).toBe(false);
    expect((await browser.snapshot()).text).toContain('Hello, again!');
  }, 90_000);
});
