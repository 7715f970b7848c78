import type { DisplayWindow, PromptLine } from '../tools/types.js';
import type { ApprovalMode } from './approval-mode.js';
import { commandRisk } from './command-risk.js';
import { controlKeysOf } from './keyboard-keys.js';

/**
 * The approval policy as one pure rule: given a tool call and what the screen says, does it
 * need a person's yes? Every door (agent runs, replays, scripts; later the session object)
 * asks this and then an Approver; nothing here has state or does I/O.
 */

/** What a person is asked to allow. */
export interface ApprovalRequest {
  tool: 'execute' | 'keyboard' | 'mouse' | 'browser';
  /** The command line as it would run (keyboard: the terminal's line the Enter submits; mouse/browser: the action). */
  command: string;
  cwd?: string;
  /** Why it needs approval: the risk's reasons, or "every command is checked" under `always`. */
  reasons: string[];
}

export type PolicyVerdict = { needsYes: false } | { needsYes: true; request: ApprovalRequest };

export interface PolicyContext {
  mode: ApprovalMode;
  workspace?: string;
}

const allow: PolicyVerdict = { needsYes: false };
const alwaysReason = 'the approval policy is "always": every command is checked';

function ask(request: ApprovalRequest): PolicyVerdict {
  return { needsYes: true, request };
}

/** An `execute` command, judged after the shell's parsing. */
export function judgeExecute(call: { command: string; cwd?: string }, context: PolicyContext): PolicyVerdict {
  if (context.mode === 'never') return allow;
  const risk = commandRisk(call.command, { ...(context.workspace ? { workspace: context.workspace } : {}), ...(call.cwd ? { cwd: call.cwd } : {}) });
  if (context.mode === 'risky' && !risk.risky) return allow;
  return ask({ tool: 'execute', command: call.command, ...(call.cwd !== undefined ? { cwd: call.cwd } : {}), reasons: risk.risky ? risk.reasons : [alwaysReason] });
}

/** The control keys of a keyboard call, before any key is sent: under `risky`, each needs a yes. */
export function judgeKeyboardKeys(call: { text?: string; keys?: readonly string[] }, context: PolicyContext): PolicyVerdict {
  if (context.mode !== 'risky') return allow;
  const keys = controlKeysOf(call);
  if (keys.length === 0) return allow;
  return ask({
    tool: 'keyboard',
    command: `press ${keys.join(', ')}`,
    reasons: [`presses ${keys.join(', ')}, which can run or bring back a command line (accept-and-next, yank, history search, Ctrl+X sequences) that Nexora does not see being typed`],
  });
}

/** Foreground programs that run what is typed as code Nexora does not read. */
const codeRunners = /^(python[0-9.]*|ipython[0-9]*|pypy[0-9]*|node(js)?|deno|bun|perl|ruby|irb|pry|php|lua(jit)?|R|julia|ghci|ocaml|scala|swift|jshell|iex|erl|guile|racket|sbcl|clojure|tclsh|wish|expect|gdb|lldb|sqlite3|psql|mysql|mariadb|mongosh?|redis-cli|ssh|telnet|nc|ncat|socat|su|docker|kubectl|script)$/;
const shells = /^(bash|sh|zsh|dash|ksh|mksh|fish|tcsh|csh|ash|busybox)$/;
/** Programs that take arrows and Enter themselves (typed lines do not queue up for the shell). */
const fullScreen = /^(n?vim?|view|ex|nano|emacs|less|more|most|man|top|htop|watch|tig)$/;
const editors = /^(n?vim?|view|ex)$/;
/** An ex command line that runs a shell or a script: `:!cmd`, `:r !cmd`, `:w !sh`, `:sh`, `:terminal`, `:py`, `:call`… */
const exRunsCode = /!|^:\s*(sh(ell)?|te(rm(inal)?)?|py(thon)?3?|pyx|lua|perl|rub(y)?|call|exe(cute)?|so(urce)?|mak(e)?|gr(ep)?)\b/;
/** `:q!`, `:wq!`, `:w!`, `:e!`: the `!` forces, it runs nothing. */
const exForced = /^:\s*(q|qa|qall|quit|wq|wqa|x|xa|w|wa|e|edit|bd|bw|close|only)!\s*$/;
const maxLineLength = 4000;

/**
 * The line an accept key (Enter) would submit, as the terminal shows it just before the key is
 * sent. The prompt is part of the screen's line and cannot be told apart, so every stretch of
 * the line that starts after a blank or a shell symbol is judged as a command line of its own:
 * whatever the prompt is, the command the shell runs is one of them. Lines continued with `> `
 * are joined with the line they continue. `typed` is what the call (and earlier calls) typed
 * since the last accept; `navigated`, whether arrows or Escape sequences were among it.
 */
export function judgeSubmittedLine(facts: { line: PromptLine | undefined; typed: string; navigated: boolean }, context: PolicyContext): PolicyVerdict {
  if (context.mode === 'never') return allow;
  const { line } = facts;
  if (!line) {
    return ask({ tool: 'keyboard', command: facts.typed || '(the line at the terminal)', reasons: ['the line an Enter would submit could not be read from the terminal'] });
  }
  const block = joinContinuations(line);
  const shown = block.trim() || facts.typed;
  if (context.mode === 'always') return ask({ tool: 'keyboard', command: shown, reasons: [alwaysReason] });
  const reasons = new Set<string>();
  const program = line.program;
  if (codeRunners.test(program)) reasons.add(`the terminal runs ${program}, which runs what is typed as code Nexora cannot judge`);
  if (editors.test(program) && /^\s*:/.test(line.text) && !exForced.test(line.text.trim()) && exRunsCode.test(line.text.trim())) reasons.add(`runs an ${program} command that starts a shell or a script (${line.text.trim().slice(0, 60)})`);
  if (!shells.test(program) && !fullScreen.test(program) && facts.navigated) {
    reasons.add(`moves the cursor or recalls lines while ${program || 'a program'} runs: the keys queue up for the shell, which Nexora cannot read ahead`);
  }
  if (block.length > maxLineLength) reasons.add(`the line is longer than ${maxLineLength} characters, too long to judge`);
  else for (const candidate of [...lineCandidates(block), facts.typed]) for (const reason of judgeCandidate(candidate, context)) reasons.add(reason);
  if (reasons.size === 0) return allow;
  return ask({ tool: 'keyboard', command: shown, reasons: [...reasons] });
}

function judgeCandidate(text: string, context: PolicyContext): string[] {
  if (text.trim() === '') return [];
  return commandRisk(text, { interactive: true, ...(context.workspace ? { workspace: context.workspace } : {}) }).reasons;
}

/** The cursor's line with the lines it continues (`> ` is the shell's default continuation prompt). */
function joinContinuations(line: PromptLine): string {
  if (!/^> /.test(line.text)) return line.text;
  const lines = [line.text.slice(2)];
  let index = line.above.length - 1;
  while (index >= 0 && /^> /.test(line.above[index] ?? '')) lines.unshift((line.above[index--] ?? '').slice(2));
  if (index >= 0) lines.unshift(line.above[index] ?? '');
  return lines.join('\n');
}

/**
 * Every stretch of the text from its start or from just after a blank or a shell symbol, except
 * inside arithmetic (`$((6*7))` is no prompt's end, and `6*7` read as a command is noise).
 */
export function lineCandidates(text: string): string[] {
  const candidates: string[] = [text];
  const arithmetic = arithmeticSpans(text);
  for (let index = 1; index < text.length; index++) {
    if (arithmetic.some(([start, end]) => index > start && index < end)) continue;
    if (/[\s;|&()`'"{}$#<>:!=]/.test(text[index - 1] ?? '') && !/\s/.test(text[index] ?? '')) candidates.push(text.slice(index));
  }
  return candidates;
}

/** Where each `$((…))` starts and ends (unclosed: to the end). */
function arithmeticSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (let start = text.indexOf('$(('); start !== -1; start = text.indexOf('$((', start + 1)) {
    let depth = 0;
    let end = text.length;
    for (let index = start + 1; index < text.length; index++) {
      if (text[index] === '(') depth++;
      else if (text[index] === ')' && --depth === 0) {
        end = index + 1;
        break;
      }
    }
    spans.push([start, end]);
  }
  return spans;
}

/** A mouse call: a press lands on a window that may be a browser (a submit button, a link) unless it is the terminal's. */
export function judgeMouse(call: { action: string; x: number; y: number; toX?: number; toY?: number; button?: string }, windows: readonly DisplayWindow[] | undefined, context: PolicyContext): PolicyVerdict {
  if (context.mode === 'never' || call.action === 'move' || call.action === 'scroll') return allow;
  const what = `${call.action}${call.button ? ` (${call.button})` : ''} at (${call.x}, ${call.y})${call.action === 'drag' ? ` to (${call.toX ?? '?'}, ${call.toY ?? '?'})` : ''}`;
  if (context.mode === 'always') return ask({ tool: 'mouse', command: what, reasons: [alwaysReason] });
  if (!windows) return ask({ tool: 'mouse', command: what, reasons: ['Nexora could not tell which window the click lands on'] });
  const points = call.action === 'drag' ? [[call.x, call.y], [call.toX ?? call.x, call.toY ?? call.y]] : [[call.x, call.y]];
  for (const [x = 0, y = 0] of points) {
    const under = windows.filter((window) => x >= window.x && y >= window.y && x < window.x + window.width && y < window.y + window.height);
    const other = under.find((window) => !window.terminal);
    if (other || under.length === 0) {
      const name = other ? JSON.stringify(other.title.slice(0, 60)) : 'the desktop (the window manager)';
      return ask({ tool: 'mouse', command: what, reasons: [`the click lands on ${name}, not the terminal: it may submit a form, follow a link or start a program`] });
    }
  }
  return allow;
}

/** Addresses inside the workstation: localhost, loopback, `about:` and `file:` pages, and any names the caller adds. */
export function isLocalAddress(address: string, localHosts: readonly string[] = []): boolean {
  const withScheme = /^[a-z][a-z0-9+.-]*:(?!\d)/i.test(address) ? address : `http://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return false;
  }
  if (url.protocol === 'about:' || url.protocol === 'file:') return true;
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '0.0.0.0' || localHosts.map((name) => name.toLowerCase()).includes(host);
}

/**
 * A browser call: going to an address outside the workstation, and clicking, pressing keys or
 * submitting on a page outside it, need a yes. A page of the workstation's own may still send
 * what it likes where it likes (its scripts run); that is not judged.
 */
export function judgeBrowser(call: { name: string; input: Record<string, unknown> }, page: { url: string | undefined }, context: PolicyContext & { localHosts?: readonly string[] }): PolicyVerdict {
  if (context.mode === 'never') return allow;
  const local = (address: string): boolean => isLocalAddress(address, context.localHosts);
  const target = typeof call.input.url === 'string' ? call.input.url : undefined;
  const describe = `${call.name} ${JSON.stringify(call.input).slice(0, 200)}`;
  const reasons: string[] = [];
  if ((call.name === 'browser_navigate' || (call.name === 'browser_tabs' && call.input.action === 'open')) && target !== undefined && !local(target)) {
    reasons.push(`goes to ${target}, an address outside the workstation`);
  }
  const acts = call.name === 'browser_click' || call.name === 'browser_press' || call.name === 'browser_select' || (call.name === 'browser_type' && call.input.submit === true);
  if (acts && (page.url === undefined || !local(page.url))) {
    reasons.push(page.url === undefined ? 'acts on a page whose address Nexora does not know: it may submit a form or follow a link' : `acts on ${page.url}, a page outside the workstation: it may submit a form or follow a link`);
  }
  const changes = acts || call.name === 'browser_navigate' || call.name === 'browser_type' || (call.name === 'browser_tabs' && call.input.action === 'open');
  if (context.mode === 'always' && changes && reasons.length === 0) reasons.push(alwaysReason);
  return reasons.length === 0 ? allow : ask({ tool: 'browser', command: describe, reasons });
}
