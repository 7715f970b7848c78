import type { ClientInput } from './client-message-filter.js';

/** What a person did during a take-over, in a form a transcript can show. */
export interface HumanInputSummary {
  /** How many keys were pressed (modifiers alone not counted). */
  keys: number;
  /** Typed text, special keys as <Name>: only when the user opted in (`viewer.recordTypedText`). */
  text?: string;
  /** Button presses with where they happened. */
  clicks: { x: number; y: number; button: 'left' | 'middle' | 'right' | 'wheel' }[];
}

const specialKeys: Record<number, string> = {
  0xff0d: '\n',
  0xff8d: '\n',
  0xff09: '\t',
  0xff08: '<BackSpace>',
  0xff1b: '<Escape>',
  0xffff: '<Delete>',
  0xff51: '<Left>',
  0xff52: '<Up>',
  0xff53: '<Right>',
  0xff54: '<Down>',
  0xff50: '<Home>',
  0xff57: '<End>',
  0xff55: '<PageUp>',
  0xff56: '<PageDown>',
};

/** Text for one pressed keysym; modifiers alone give nothing. */
export function keysymText(keysym: number): string {
  if (keysym >= 0x20 && keysym <= 0x7e) return String.fromCharCode(keysym);
  if (keysym >= 0xa0 && keysym <= 0xff) return String.fromCharCode(keysym);
  if (keysym >= 0x1000000 && keysym <= 0x110ffff) return String.fromCodePoint(keysym - 0x1000000);
  const special = specialKeys[keysym];
  if (special !== undefined) return special;
  if (keysym >= 0xffe1 && keysym <= 0xffee) return '';
  if (keysym >= 0xffbe && keysym <= 0xffe0) return `<F${keysym - 0xffbe + 1}>`;
  return `<0x${keysym.toString(16)}>`;
}

export interface HumanInputRecorderOptions {
  /** A summary is written after this long without input (default 1.5 s). */
  idleMs?: number;
  /**
   * Keep what was typed. Off by default: a person who takes over may type a password (sudo, a
   * login), and the transcript is stored, exported and shared. Off, the record says "typed N keys".
   */
  recordText?: boolean;
}

/**
 * Gathers a person's key and pointer events into one summary per burst of activity, so the
 * transcript reads "typed 7 keys, clicked (120, 40)" rather than a row per key event.
 */
export class HumanInputRecorder {
  private text = '';
  private keys = 0;
  private clicks: HumanInputSummary['clicks'] = [];
  private buttons = 0;
  private timer: NodeJS.Timeout | undefined;

  private readonly idleMs: number;
  private readonly recordText: boolean;

  constructor(
    private readonly flushTo: (summary: HumanInputSummary) => void,
    options: HumanInputRecorderOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 1500;
    this.recordText = options.recordText ?? false;
  }

  add(input: ClientInput): void {
    if (input.type === 'key') {
      const text = input.down ? keysymText(input.keysym) : '';
      if (text !== '') this.keys++;
      // Without the opt-in the text is never held, not merely left out of the summary.
      if (this.recordText) this.text += text;
    } else {
      const pressed = input.buttonMask & ~this.buttons;
      this.buttons = input.buttonMask;
      if (pressed & 1) this.clicks.push({ x: input.x, y: input.y, button: 'left' });
      if (pressed & 2) this.clicks.push({ x: input.x, y: input.y, button: 'middle' });
      if (pressed & 4) this.clicks.push({ x: input.x, y: input.y, button: 'right' });
      if (pressed & 0x78) this.clicks.push({ x: input.x, y: input.y, button: 'wheel' });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.idleMs);
    this.timer.unref();
  }

  /** Writes out whatever has gathered (on hand-back, and after a quiet spell). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.keys === 0 && this.clicks.length === 0) return;
    const summary: HumanInputSummary = { keys: this.keys, ...(this.recordText ? { text: this.text } : {}), clicks: this.clicks };
    this.text = '';
    this.keys = 0;
    this.clicks = [];
    this.flushTo(summary);
  }
}
