import type { EventRecord } from '../store/index.js';
import { visibleControls } from '../visible-controls.js';

/** A session's header lines in an exported transcript. */
export interface TranscriptSession {
  id: string;
  status: string;
  model: string;
  workspaceDir: string | null;
  createdAt: Date;
  endedAt: Date | null;
}

type Payload = Record<string, unknown>;

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const usd = (value: unknown): string => {
  const amount = num(value);
  return amount === undefined ? '?' : `$${amount.toFixed(amount < 0.01 ? 4 : 2)}`;
};
const ms = (value: unknown): string => {
  const amount = num(value);
  if (amount === undefined) return '';
  return amount < 1000 ? `${Math.round(amount)} ms` : `${(amount / 1000).toFixed(1)} s`;
};
/**
 * Untrusted text (the task, the model's words, tool arguments and outcomes, errors) goes into
 * code, never into Markdown proper: a fenced block for text with lines, a code span for one
 * line. CommonMark renders both literally in every conforming renderer (no links, images, raw
 * HTML or entities), where backslash-escaping would depend on each renderer's extensions
 * (autolinks, footnotes, math, HTML blocks) and one missed case loads a remote image. Control
 * characters are made visible too, for whoever `cat`s the file.
 *
 * This one: a fenced block whose fence is longer than any backtick run inside it.
 */
const fence = (text: string, language = ''): string => {
  const visible = visibleControls(text);
  const longest = Math.max(2, ...[...visible.matchAll(/`+/g)].map((match) => match[0].length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}${language}\n${visible}\n${marks}`;
};

/**
 * A readable Markdown transcript of a session's events: the task, each step with its tool
 * calls (arguments, outcome, duration), the model's text, cost, take-overs by a person, and
 * screenshots linked from `screenshotsLink` (a folder next to the file).
 */
export function renderTranscriptMarkdown(options: { session: TranscriptSession; events: readonly EventRecord[]; screenshotsLink?: string }): string {
  const { session, events } = options;
  const lines: string[] = [
    `# Nexora session ${session.id}`,
    '',
    `- status: ${session.status}`,
    `- model: ${code(session.model)}`,
    `- workspace: ${session.workspaceDir === null ? '(none)' : code(session.workspaceDir)}`,
    `- started: ${session.createdAt.toISOString()}${session.endedAt ? `, ended: ${session.endedAt.toISOString()}` : ''}`,
    '',
  ];
  let totalUsd: number | undefined;
  for (const event of events) {
    const p = (typeof event.payload === 'object' && event.payload !== null ? event.payload : {}) as Payload;
    const at = event.at.toISOString().slice(11, 19);
    switch (event.kind) {
      case 'run-start':
        lines.push(`## Task (${at})`, '', fence(str(p.task)), '');
        break;
      case 'step-start':
        lines.push(`### Step ${num(p.step) ?? '?'} · ${code(str(p.model))} (${at})`, '');
        break;
      case 'tool-call-start':
        lines.push(`- **${code(str(p.toolName))}** ${code(str(p.input))}`);
        break;
      case 'tool-call-end':
        lines.push(`  - ${p.isError === true ? '✗' : '✓'} ${code(str(p.summary))} (${ms(p.durationMs)})${p.imageSent === true ? ' [screenshot sent to the model]' : ''}`);
        break;
      case 'step-end': {
        const cost = (p.cost ?? {}) as Payload;
        const sessionCost = (p.sessionCost ?? {}) as Payload;
        totalUsd = num(sessionCost.usd) ?? totalUsd;
        if (str(p.text).trim()) lines.push('', fence(str(p.text).trim()));
        lines.push('', `_${ms(p.durationMs)}, ${num(cost.inputTokens) ?? 0} tokens in, ${num(cost.outputTokens) ?? 0} out, ${usd(cost.usd)} (session ${usd(sessionCost.usd)})_`, '');
        break;
      }
      case 'model-retry':
        lines.push(`- retry ${num(p.attempt) ?? '?'} after ${code(str(p.failure))}: ${code(str(p.error).slice(0, 200))}`);
        break;
      case 'model-fallback':
        lines.push(`- fell back from ${code(str(p.from))} to ${code(str(p.to))} (${code(str(p.failure))})`);
        break;
      case 'run-end':
        totalUsd = num((p.cost as Payload | undefined)?.usd) ?? totalUsd;
        lines.push(`## Result: ${code(str(p.outcome))} (${at})`, '', fence(str(p.reason)), '', `${num(p.steps) ?? '?'} steps in ${ms(p.durationMs)}, cost ${usd((p.cost as Payload | undefined)?.usd)}.`, '');
        if (str(p.finalText).trim()) lines.push(fence(str(p.finalText).trim()), '');
        break;
      case 'control-take':
        lines.push(`> ${at} a person took control of the display`, '');
        break;
      case 'control-return':
        lines.push(`> ${at} control handed back to the agent`, '');
        break;
      case 'human-input': {
        const clicks = Array.isArray(p.clicks) ? (p.clicks as Payload[]).map((click) => `${code(str(click.button))} click at (${num(click.x) ?? '?'}, ${num(click.y) ?? '?'})`) : [];
        const typed = str(p.text) ? `typed ${code(JSON.stringify(p.text))}` : typeof p.keys === 'number' && p.keys > 0 ? `typed ${p.keys} key${p.keys === 1 ? '' : 's'}` : '';
        lines.push(`> ${at} the person ${[typed, ...clicks].filter(Boolean).join(', ')}`, '');
        break;
      }
      case 'conversation-append':
      case 'conversation-continue':
        // The conversation's record for resumes: the steps above already tell it.
        break;
      case 'screen-capture':
        // The archive names its files; anything else in a link target could point off the machine.
        if (options.screenshotsLink && typeof p.file === 'string' && /^[\w.-]+\.png$/.test(p.file)) lines.push('', `![screen at ${at}](${options.screenshotsLink}/${p.file})`, '');
        break;
      default:
        lines.push(`- ${code(event.kind)}${event.durationMs !== null ? ` (${ms(event.durationMs)})` : ''}${describeOther(p)}`);
    }
  }
  if (totalUsd !== undefined) lines.push('', `**Total cost: ${usd(totalUsd)}**`);
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/**
 * One line of untrusted text as a code span whose backtick run is longer than any inside. On one
 * line for certain: a line break would let the next line start a block (a heading, raw HTML).
 */
function code(text: string): string {
  const visible = visibleControls(text, { oneLine: true });
  const clipped = visible.length > 400 ? `${visible.slice(0, 399)}…` : visible;
  const longest = Math.max(0, ...[...clipped.matchAll(/`+/g)].map((match) => match[0].length));
  const marks = '`'.repeat(longest + 1);
  if (clipped === '') return '';
  // A renderer strips one space from each end when both are there: pad only when needed (a backtick at an end).
  const padded = /^`|`$|^ .* $/.test(clipped) ? ` ${clipped} ` : clipped;
  return `${marks}${padded}${marks}`;
}

function describeOther(payload: Payload): string {
  const text = JSON.stringify(payload);
  return text === '{}' ? '' : `: ${code(text.length > 200 ? `${text.slice(0, 199)}…` : text)}`;
}
