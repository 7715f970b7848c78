import { describe, expect, it } from 'vitest';
import { InputGate } from '../../live/input-gate.js';
import { BrowserTools } from './browser-tools.js';

/**
 * While a person holds the display, the agent's browser actions wait like its keyboard: a click
 * must not land behind their back. A host with no browser shows how far a call got: reaching
 * it means the action went past the gate.
 */
describe('browser actions during take-over', () => {
  it('holds an action until the person hands back, and lets reads through', async () => {
    const asked: string[] = [];
    const host = {
      ensureBrowser: () => {
        asked.push('ensureBrowser');
        return Promise.reject(new Error('no browser here'));
      },
      attach: () => Promise.reject(new Error('no workstation here')),
    };
    const browser = new BrowserTools({ host, connectTimeoutMs: 1_000 });
    const gate = new InputGate();
    const waits: string[] = [];
    // As the live session fastens it when the channels open.
    browser.holdActionsAt((signal) => {
      waits.push(gate.holder);
      return gate.enter({ what: 'browser', timeoutMs: 60_000, signal });
    });
    expect(gate.take()).toBe(true);

    const click = browser.click({ ref: 'e1' }).then(
      () => 'done',
      (error: unknown) => (error as Error).message,
    );
    // The click is at the gate (seen by the gate, not guessed from time) and has not asked for the browser.
    await expect.poll(() => waits).toEqual(['person']);
    expect(asked).toEqual([]);
    // A read goes through at once, even while the person holds control.
    const read = await browser.snapshot().then(
      () => 'done',
      (error: unknown) => (error as Error).message,
    );
    expect(asked).toEqual(['ensureBrowser']);
    expect(read).not.toBe('done');

    expect(gate.handBack()).toBe(true);
    expect(await click).not.toBe('done');
    expect(asked).toEqual(['ensureBrowser', 'ensureBrowser']);
    browser.close();
  });
});
