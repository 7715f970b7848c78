import { describe, expect, it } from 'vitest';
import { ClientMessageFilter, clientMessageLength } from './client-message-filter.js';
import { HumanInputRecorder, keysymText } from './human-input-recorder.js';

const keyEvent = (keysym: number, down = true): Buffer => {
  const message = Buffer.alloc(8);
  message[0] = 4;
  message[1] = down ? 1 : 0;
  message.writeUInt32BE(keysym, 4);
  return message;
};
const pointerEvent = (mask: number, x: number, y: number): Buffer => Buffer.from([5, mask, x >> 8, x & 255, y >> 8, y & 255]);
const updateRequest = Buffer.from([3, 1, 0, 0, 0, 0, 5, 0, 3, 32]);
const setEncodings = (count: number): Buffer => Buffer.concat([Buffer.from([2, 0, 0, count]), Buffer.alloc(4 * count, 1)]);

describe('ClientMessageFilter', () => {
  it('drops key and pointer events while input is not allowed, even split across chunks', () => {
    const filter = new ClientMessageFilter(() => false);
    const stream = Buffer.concat([setEncodings(3), keyEvent(0x61), updateRequest, pointerEvent(1, 300, 20)]);
    const verdicts = [...filter.push(stream.subarray(0, 7)), ...filter.push(stream.subarray(7, 19)), ...filter.push(stream.subarray(19))];
    expect(verdicts.map((verdict) => verdict.kind)).toEqual(['forward', 'drop', 'forward', 'drop']);
    const forwarded = Buffer.concat(verdicts.flatMap((verdict) => (verdict.kind === 'forward' ? [verdict.bytes] : [])));
    expect(forwarded).toEqual(Buffer.concat([setEncodings(3), updateRequest]));
  });

  it('passes input on when allowed and decodes it', () => {
    let allowed = true;
    const filter = new ClientMessageFilter(() => allowed);
    expect(filter.push(keyEvent(0x41))).toEqual([{ kind: 'pass-input', bytes: keyEvent(0x41), input: { type: 'key', down: true, keysym: 0x41 } }]);
    allowed = false;
    expect(filter.push(pointerEvent(4, 513, 2))).toEqual([{ kind: 'drop', input: { type: 'pointer', buttonMask: 4, x: 513, y: 2 } }]);
  });

  it('frames cut text (both length forms) and refuses message types it cannot frame', () => {
    const cut = Buffer.concat([Buffer.from([6, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('abc')]);
    const extended = Buffer.alloc(12);
    extended[0] = 6;
    extended.writeInt32BE(-4, 4);
    expect(clientMessageLength(cut)).toBe(11);
    expect(clientMessageLength(extended)).toBe(12);
    expect(clientMessageLength(Buffer.from([2, 0]))).toBeUndefined();
    expect(() => new ClientMessageFilter(() => false).push(Buffer.from([77, 1, 2]))).toThrow(/unsupported RFB client message type 77/);
  });
});

describe('HumanInputRecorder', () => {
  it('counts key presses (never keeping the text) and gathers button presses into clicks', () => {
    const summaries: unknown[] = [];
    const recorder = new HumanInputRecorder((summary) => summaries.push(summary), { idleMs: 60_000 });
    for (const keysym of [0x73, 0x33, 0x63, 0x72, 0x65, 0x74, 0xffe1, 0xff0d]) {
      recorder.add({ type: 'key', down: true, keysym });
      recorder.add({ type: 'key', down: false, keysym });
    }
    recorder.add({ type: 'pointer', buttonMask: 4, x: 1, y: 2 });
    recorder.flush();
    expect(summaries).toEqual([{ keys: 7, clicks: [{ x: 1, y: 2, button: 'right' }] }]);
    expect(JSON.stringify(summaries)).not.toContain('s3cret');
  });

  it('keeps the typed text only when the user opted in', () => {
    const summaries: unknown[] = [];
    const recorder = new HumanInputRecorder((summary) => summaries.push(summary), { idleMs: 60_000, recordText: true });
    for (const keysym of [0x6c, 0x73, 0xffe1, 0xff0d]) {
      recorder.add({ type: 'key', down: true, keysym });
      recorder.add({ type: 'key', down: false, keysym });
    }
    recorder.add({ type: 'pointer', buttonMask: 1, x: 10, y: 20 });
    recorder.add({ type: 'pointer', buttonMask: 1, x: 12, y: 20 });
    recorder.add({ type: 'pointer', buttonMask: 0, x: 12, y: 20 });
    recorder.flush();
    recorder.flush();
    expect(summaries).toEqual([{ keys: 3, text: 'ls\n', clicks: [{ x: 10, y: 20, button: 'left' }] }]);
    expect(keysymText(0x10000e9 + 0x100)).toBe('ǩ');
    expect(keysymText(0xffbe)).toBe('<F1>');
  });
});
