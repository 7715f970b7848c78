import { createHash } from 'node:crypto';
import { describeWindows } from '../tools/terminal/display-windows.js';
import type { ScreenResult } from '../tools/types.js';

/**
 * Turns screens into what the model reads: the whole terminal text when it needs it, only the
 * changed rows otherwise, and a screenshot only when the display looks different from the last
 * one sent.
 */
export class ScreenContext {
  private looksSinceFull = 0;
  private lastPngHash: string | undefined;

  constructor(private readonly options: { fullEvery: number } = { fullEvery: 8 }) {}

  /** The text for a screen() result. */
  describeScreen(screen: ScreenResult, forceFull: boolean): string {
    const header = `Display ${screen.width}x${screen.height}; terminal cursor at row ${screen.cursor.row}, column ${screen.cursor.column}.${describeDisplay(screen)}`;
    const rows = screen.text.split('\n').length;
    const many = screen.changes.changedLines.length > rows / 2;
    this.looksSinceFull++;
    if (forceFull || screen.changes.firstLook || many || this.looksSinceFull >= this.options.fullEvery) {
      this.looksSinceFull = 0;
      return `${header}\nTerminal text:\n${fence(trimBottom(screen.text))}${screen.ocrText ? `\nOCR of the display:\n${fence(screen.ocrText)}` : ''}`;
    }
    return `${header}\n${describeChanges(screen)}${screen.ocrText ? `\nOCR of the display:\n${fence(screen.ocrText)}` : ''}`;
  }

  /** The text for the screen part of a keyboard() result: changes, or everything if most of it changed. */
  describeAfterInput(screen: ScreenResult): string {
    const rows = screen.text.split('\n').length;
    const display = describeDisplay(screen);
    if (display) return `${display.trim()}\n${this.describeAfterInputText(screen, rows)}`;
    return this.describeAfterInputText(screen, rows);
  }

  private describeAfterInputText(screen: ScreenResult, rows: number): string {
    if (screen.changes.firstLook || screen.changes.changedLines.length > rows / 2) {
      this.looksSinceFull = 0;
      return `Terminal text now (cursor row ${screen.cursor.row}, column ${screen.cursor.column}):\n${fence(trimBottom(screen.text))}`;
    }
    return `Cursor row ${screen.cursor.row}, column ${screen.cursor.column}. ${describeChanges(screen)}`;
  }

  /** Whether this PNG differs from the last one sent (identical screenshots are not resent). */
  isNewImage(png: Buffer): boolean {
    const hash = createHash('sha256').update(png).digest('hex');
    if (hash === this.lastPngHash) return false;
    this.lastPngHash = hash;
    return true;
  }

  /** Forget the last screenshot (it was dropped from the conversation, so it must be resent). */
  forgetImage(): void {
    this.lastPngHash = undefined;
  }
}

/**
 * What the terminal text alone does not say: that another window has the keyboard (with the
 * windows on the display), and which parts of the display changed.
 */
function describeDisplay(screen: ScreenResult): string {
  let text = '';
  if (screen.terminal?.focused === false || (screen.windows && screen.windows.length > 0 && screen.terminal?.focused !== true)) {
    text += `\nThe terminal does not have the keyboard focus: keys go to the focused window (*). Windows on the display (screenshot pixels):\n${describeWindows(screen.windows ?? [])}`;
  }
  if (screen.visualChanges && screen.visualChanges.regions.length > 0) text += `\nDisplay changes since your last look: ${screen.visualChanges.summary}.`;
  if (screen.image && screen.image.scale !== 1) {
    // A crop is part of the scaled display: coordinates are in the whole scaled display's pixels.
    const { scale, cropped } = screen.image;
    const width = cropped ? Math.round(screen.width * scale) : screen.image.width;
    const height = cropped ? Math.round(screen.height * scale) : screen.image.height;
    text += `\nThe screenshot is scaled to ${width}x${height}${cropped ? ' (the whole display)' : ''}; give mouse coordinates in its pixels.`;
  }
  if (screen.image?.cropped) text += `\nThe screenshot shows only the changed region, ${screen.image.region.width}x${screen.image.region.height} at (${screen.image.region.x}, ${screen.image.region.y}).`;
  return text;
}

function describeChanges(screen: ScreenResult): string {
  const { changedLines, summary } = screen.changes;
  if (changedLines.length === 0) return 'The terminal text is unchanged since your last look.';
  const lines = changedLines.map((line) => `row ${line.row}: ${line.text}`);
  return `Changed since your last look (${summary}):\n${fence(lines.join('\n'))}`;
}

function trimBottom(text: string): string {
  return text.replace(/(\n[ \t]*)+$/, '');
}

function fence(text: string): string {
  return `\`\`\`\n${text}\n\`\`\``;
}
