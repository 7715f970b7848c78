import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenContext } from '../src/agent/screen-text.js';
import type { WorkstationTools } from '../src/tools/workstation-tools.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { summarise } from '../bench/lib/stats.js';
import { startToolsWorkstation, type ToolsWorkstation } from './fixtures/tools-workstation.js';
import { eventually } from './fixtures/eventually.js';

/**
 * What the agent sees (issue 13) and what it must not (issue 10.4), against a real workstation:
 * the whole terminal as text, the focus, settling on the program, visual differences, scaled
 * screenshots, and no secret in any process's environment or in `docker inspect`.
 */
let station: ToolsWorkstation;
let tools: WorkstationTools;

/** Polls `check` until it holds (bounded), for states that arrive on their own time. */
/** Gives the terminal the keyboard back (a click into it). */
async function focusTerminal(): Promise<void> {
  await tools.mouse({ action: 'click', x: 200, y: 200 });
  await eventually(() => tools.screen({ image: false }), (screen) => screen.terminal?.focused === true, 'the terminal taking the focus back');
}

beforeAll(async () => {
  station = await startToolsWorkstation('observe');
  tools = station.connected.tools;
  await tools.keyboard({ text: "export PS1='$ '; clear\n", wait: { pattern: /^\$$/m, timeoutMs: 10_000 } });
});

afterAll(async () => {
  await station?.dispose();
});

describe('no secret in the workstation (the model plays the attacker)', () => {
  it('execute("env"), every process environment, the process list and docker inspect hold no VNC password', async () => {
    const { vncPassword } = station;
    const env = await tools.execute('env');
    expect(env.exitCode).toBe(0);
    expect(env.stdout).toContain('DISPLAY=:1');
    expect(env.stdout).not.toContain(vncPassword);
    expect(env.stdout).not.toMatch(/VNC_PASSWORD/);
    // Every process, the VNC server and the start script included, inherited nothing secret.
    const environments = await tools.execute("for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done 2>/dev/null");
    expect(environments.stdout).toContain('NEXORA_VNC_PORT=');
    expect(environments.stdout).not.toContain(vncPassword);
    expect(environments.stdout).not.toMatch(/VNC_PASSWORD/);
    const processes = await tools.execute('ps -eo args');
    expect(processes.stdout).toMatch(/Xvnc .*-PasswordFile \/run\/nexora\/display\/vncpasswd/);
    expect(processes.stdout).not.toContain(vncPassword);
    const info = await createDockerClient().getContainer(station.containerId).inspect();
    expect(JSON.stringify(info)).not.toContain(vncPassword);
    expect(JSON.stringify(info.Config.Env)).not.toMatch(/VNC_PASSWORD/);
    // The password lives in a file only the display's uid can read (a tmpfs, never the image):
    // the session's uid may see its size, not its bytes.
    const file = await tools.execute('stat -c "%a %s %U" /run/nexora/display/vncpasswd; cat /run/nexora/display/vncpasswd');
    expect(file.stdout.trim()).toBe('600 8 nexora-display');
    expect(file.stderr).toMatch(/Permission denied/);
  });
});

describe('screen() text is the whole terminal', () => {
  it('shows a second window split in two exactly as tmux draws it: both panes, the border, the window list', async () => {
    await tools.keyboard({ keys: ['ctrl+b', 'c'], wait: { pattern: /1:bash\*/ } });
    await tools.keyboard({ text: "PS1='L$ '; clear; echo left-pane\n", wait: { pattern: /^L\$ *$/m } });
    await tools.keyboard({ keys: ['ctrl+b', '%'], wait: { pattern: '│' } });
    await tools.keyboard({ text: "PS1='R$ '; clear; echo right-pane\n", wait: { pattern: /│R\$$/m } });
    const screen = await tools.screen({ image: false });
    const rows = screen.text.split('\n');
    const left = (await tools.execute('tmux capture-pane -p -t main:1.0')).stdout.split('\n');
    const right = (await tools.execute('tmux capture-pane -p -t main:1.1')).stdout.split('\n');
    const width = Number((await tools.execute("tmux display -p -t main:1.0 '#{pane_width}'")).stdout.trim());
    expect(rows[0]).toMatch(/^left-pane +│right-pane$/);
    expect(rows[1]).toMatch(/^L\$ +│R\$$/);
    for (let row = 0; row < rows.length - 1; row++) {
      expect(rows[row]).toBe(`${(left[row] ?? '').padEnd(width)}│${right[row] ?? ''}`.replace(/\s+$/, ''));
    }
    // The status line: session, window list with the current window marked, the path on the right.
    expect(rows.at(-1)).toMatch(/^\[main\] 0:bash- 1:bash\* +\/workspace$/);
    expect(screen.cursor).toEqual({ row: 1, column: width + 1 + 3 });
    expect(screen.terminal).toMatchObject({ focused: true, window: { index: 1 }, panes: 2 });

    // Back to the first window: the list says so, and the text is that window's again.
    await tools.execute('tmux kill-window -t main:1');
    const back = await eventually(() => tools.screen({ image: false }), (look) => /^\[main\] 0:bash\*/m.test(look.text), 'the first window coming back');
    expect(back.terminal?.panes).toBe(1);
  });

  it('says when another window has the keyboard and lists the windows with title and geometry', async () => {
    // setsid: the window outlives the execute() that starts it.
    await tools.execute("DISPLAY=:1 setsid xmessage -geometry +500+300 'a GUI window' >/dev/null 2>&1 &");
    const screen = await eventually(() => tools.screen({ image: false }), (look) => look.terminal?.focused === false && (look.windows ?? []).some((window) => window.title === 'xmessage' && window.focused), 'xmessage taking the focus');
    const note = screen.windows!.find((window) => window.title === 'xmessage')!;
    expect(note.x).toBeGreaterThanOrEqual(500);
    expect(note.y).toBeGreaterThanOrEqual(300);
    expect(note.width).toBeGreaterThan(20);
    expect(screen.windows!.filter((window) => window.terminal)).toHaveLength(1);
    const text = new ScreenContext().describeScreen(screen, true);
    expect(text).toMatch(/The terminal does not have the keyboard focus/);
    expect(text).toMatch(/\* "xmessage" \d+x\d+ at \(\d+, \d+\) \(focused\)/);
    await tools.execute('pkill -x xmessage');
    await focusTerminal();
    expect((await tools.screen({ image: false })).windows).toBeUndefined();
  });
});

describe('keyboard() settles on the program', () => {
  it('returns as soon as the shell is back at its prompt and the prompt is drawn', async () => {
    const gaps: number[] = [];
    for (let index = 0; index < 15; index++) {
      const result = await tools.keyboard({ text: 'true\n' });
      const returnedAt = performance.now();
      expect(result.wait.outcome).toBe('input');
      expect(result.program?.summary).toBe('the shell waits for input at its prompt');
      gaps.push(returnedAt - station.connected.rfb.lastUpdateAt);
    }
    const gap = summarise(gaps);
    console.log(`keyboard("true\\n"): returned ${gap.p50.toFixed(1)} ms (p50), ${gap.p95.toFixed(1)} ms (p95) after the last frame was drawn`);
    // The fixed quiet interval this replaces cost at least 150 ms after the last frame.
    expect(gap.p50).toBeLessThan(150);
  });

  it('waitFor "input" waits through a silent stretch until the prompt is back', async () => {
    await tools.keyboard({ text: 'clear\n' });
    const result = await tools.keyboard({ text: 'echo first-part; sleep 2; echo second-part\n', wait: { waitFor: 'input', timeoutMs: 30_000 } });
    expect(result.wait.outcome).toBe('input');
    expect(result.wait.waitedMs).toBeGreaterThanOrEqual(1900);
    expect(result.screen.text).toMatch(/^second-part$/m);
  });

  it('says what still runs when the wait ends first', async () => {
    const result = await tools.keyboard({ text: 'sleep 30\n', wait: { waitFor: 'input', timeoutMs: 1000 } });
    expect(result.wait.outcome).toBe('timeout');
    expect(result.program?.activity).toBe('running');
    expect(result.program?.summary).toMatch(/^still running: sleep \(\d+ s, last output \d+ s ago\)$/);
    const interrupted = await tools.keyboard({ keys: ['ctrl+c'] });
    expect(interrupted.wait.outcome).toBe('input');
  });
});

describe('screen() reports visual differences', () => {
  it('a window that changes in one corner yields one small box, and a crop of that size', async () => {
    // tmux renames the window after its foreground program every 5 s (status-interval): after
    // the earlier tests' sleep the status line would still change on its own.
    await eventually(() => tools.screen({ image: false }), (look) => /^\[main\] 0:bash\*/m.test(look.text), 'tmux naming the window after the shell again', 30_000);
    await tools.execute(
      "DISPLAY=:1 setsid xterm -title corner -geometry 12x2+1100+700 -e sh -c 'while [ ! -e /tmp/corner-go ]; do sleep 0.05; done; printf CHANGED; sleep 60' >/dev/null 2>&1 &",
    );
    await eventually(() => tools.screen({ image: false }), (look) => (look.windows ?? []).some((window) => window.title === 'corner'), 'the corner window');
    // A baseline once the display has settled (the focus moved, the window and the window
    // manager's decorations drew): a look that finds no pixel changed since the one before.
    // A quiet interval alone is not enough on a loaded machine, where drawing can stall.
    const before = await eventually(
      async () => {
        await station.connected.rfb.waitForQuiet({ quietMs: 300, timeoutMs: 10_000 });
        return tools.screen({ image: false });
      },
      (look) => look.visualChanges?.regions.length === 0,
      'the display to settle after the corner window opened',
      30_000,
    );
    const corner = before.windows!.find((window) => window.title === 'corner')!;
    const lastBefore = station.connected.rfb.lastUpdateAt;
    await tools.execute('touch /tmp/corner-go');
    await station.connected.rfb.waitForUpdate({ after: lastBefore, timeoutMs: 10_000 });
    await station.connected.rfb.waitForQuiet({ quietMs: 200, timeoutMs: 10_000 });
    const after = await tools.screen({ crop: 'changes' });
    const regions = after.visualChanges!.regions;
    expect(regions).toHaveLength(1);
    const [region] = regions;
    expect(region!.x).toBeGreaterThanOrEqual(corner.x);
    expect(region!.y).toBeGreaterThanOrEqual(corner.y);
    expect(region!.x + region!.width).toBeLessThanOrEqual(corner.x + corner.width);
    expect(region!.y + region!.height).toBeLessThanOrEqual(corner.y + corner.height);
    const png = PNG.sync.read(after.png!);
    expect([png.width, png.height]).toEqual([region!.width, region!.height]);
    expect(after.image).toMatchObject({ cropped: true, region });
    // Nothing changed since: no region.
    expect((await tools.screen({ image: false })).visualChanges!.regions).toEqual([]);
    await tools.execute('pkill -f corner-go');
    await focusTerminal();
  });
});

describe('screenshots sized for the model', () => {
  it('scales the PNG to the model size and the mouse coordinates back', async () => {
    tools.setImageSize({ width: 640, height: 640 });
    try {
      const screen = await tools.screen();
      const png = PNG.sync.read(screen.png!);
      expect([png.width, png.height]).toEqual([640, 400]);
      expect(screen.image).toMatchObject({ width: 640, height: 400, scale: 0.5 });
      await tools.mouse({ action: 'move', x: 321, y: 123 });
      const location = await tools.execute('DISPLAY=:1 xdotool getmouselocation --shell');
      expect(location.stdout).toContain('X=642\n');
      expect(location.stdout).toContain('Y=246\n');
      await expect(tools.mouse({ action: 'move', x: 640, y: 10 })).rejects.toThrow(/off the screen: x must be 0–639/);

      // A fallback model with a smaller size: until it looks, the model points in the last
      // screenshot's pixels (640x400); after its first look, in its own (320x200).
      tools.setImageSize({ width: 320, height: 240 });
      await tools.mouse({ action: 'move', x: 500, y: 300 });
      expect((await tools.execute('DISPLAY=:1 xdotool getmouselocation --shell')).stdout).toContain('X=1000\nY=600\n');
      const smaller = await tools.screen();
      expect([PNG.sync.read(smaller.png!).width, PNG.sync.read(smaller.png!).height]).toEqual([320, 200]);
      await tools.mouse({ action: 'move', x: 100, y: 50 });
      expect((await tools.execute('DISPLAY=:1 xdotool getmouselocation --shell')).stdout).toContain('X=400\nY=200\n');
      await expect(tools.mouse({ action: 'move', x: 320, y: 10 })).rejects.toThrow(/x must be 0–319/);

      // A pixel budget binds before the box: 1280x800 in 100,000 pixels is 400x250.
      tools.setImageSize({ width: 1000, height: 1000, maxPixels: 100_000 });
      expect((await tools.screen()).image).toMatchObject({ width: 400, height: 250 });
      expect(() => tools.setImageSize({ width: 1000, height: 1000, maxPixels: 12 })).toThrow(/maxPixels must be a whole number of at least 256/);
    } finally {
      tools.setImageSize(undefined);
      // Back to display pixels for the tests after this one: a full-size look resets the pointer's frame.
      await tools.screen();
    }
  });
});
