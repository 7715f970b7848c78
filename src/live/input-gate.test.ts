import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { InputGate } from './input-gate.js';

describe('InputGate', () => {
  it('lets a call in within the same turn while no person holds the display', async () => {
    const gate = new InputGate();
    let entered = false;
    void gate.enter({ what: 'keyboard' }).then(() => (entered = true));
    await Promise.resolve();
    expect(entered).toBe(true);
  });

  it('holds calls while a person has control and lets them in on hand-back', async () => {
    const gate = new InputGate();
    const holders: string[] = [];
    gate.subscribe((holder) => holders.push(holder));
    expect(gate.take('a person in the web view')).toBe(true);
    expect(gate.take()).toBe(false);
    const order: string[] = [];
    const held = gate.enter({ what: 'keyboard', timeoutMs: 60_000 }).then(() => order.push('keyboard'));
    const heldToo = gate.enter({ what: 'execute', timeoutMs: 60_000 }).then(() => order.push('execute'));
    await nextTurn();
    expect(gate.waiting).toBe(2);
    expect(order).toEqual([]);
    expect(gate.handBack()).toBe(true);
    await Promise.all([held, heldToo]);
    expect(order).toEqual(['keyboard', 'execute']);
    expect(gate.waiting).toBe(0);
    expect(holders).toEqual(['person', 'agent']);
  });

  it('refuses with control-held, naming the holder, once the call has waited its own timeout', async () => {
    const gate = new InputGate();
    gate.take('Ada in the web view');
    const startedAt = Date.now();
    const error = await gate.enter({ what: 'mouse', timeoutMs: 150 }).catch((caught: unknown) => caught);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(NexoraError.is(error, 'control-held')).toBe(true);
    expect((error as Error).message).toMatch(/^Ada in the web view \(since \d\d:\d\d:\d\d UTC\) holds control of the display: this mouse call waited \d+ ms and was not delivered/);
    expect(gate.waiting).toBe(0);
  });

  it('stops waiting when the caller gives up', async () => {
    const gate = new InputGate();
    gate.take();
    const controller = new AbortController();
    const waiting = gate.enter({ what: 'execute', timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    expect(gate.waiting).toBe(0);
  });
});
