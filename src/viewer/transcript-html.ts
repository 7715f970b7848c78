import type { EventRecord } from '../store/index.js';
import type { TranscriptSession } from './transcript-markdown.js';
import { visibleControls } from '../visible-controls.js';

type Payload = Record<string, unknown>;

/** One step of a run as the page shows it. */
interface Frame {
  run: number;
  step: number;
  model: string;
  at: string;
  text: string;
  calls: { name: string; input: string; summary: string; isError: boolean; durationMs: number | undefined }[];
  /** Screenshots taken during the step (file names). */
  shots: string[];
  /** The newest screenshot by the end of the step, from this step or an earlier one. */
  screen: string | undefined;
  usd: number | undefined;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
// Markup escaped, and control characters and bidi overrides shown: they could reorder or hide what a reader sees.
const escapeHtml = (text: string): string => visibleControls(text).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const ms = (value: number | undefined): string => (value === undefined ? '' : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`);
const usd = (value: number | undefined): string => (value === undefined ? '?' : `$${value.toFixed(value < 0.01 ? 4 : 2)}`);

/**
 * A session's story as one self-contained HTML page: the transcript (tasks, steps, tool
 * calls, the model's words, results), every screenshot embedded, and a scrubber that walks
 * the steps showing the screen as it was. It loads nothing: a strict content security policy
 * forbids any fetch, and all text from the session (screen text, model output) is escaped.
 */
export function renderTranscriptHtml(options: { session: TranscriptSession; events: readonly EventRecord[]; screenshots: ReadonlyMap<string, Buffer> }): string {
  const { session, events, screenshots } = options;
  const frames: Frame[] = [];
  const body: string[] = [];
  let run = 0;
  let current: Frame | undefined;
  let latestScreen: string | undefined;
  const openCalls = new Map<string, Frame['calls'][number]>();
  let flushed = 0;
  for (const event of events) {
    const p = (typeof event.payload === 'object' && event.payload !== null ? event.payload : {}) as Payload;
    const at = event.at.toISOString().slice(11, 19);
    switch (event.kind) {
      case 'run-start':
        run++;
        body.push(`<section class="task"><h2>Task ${run} <small>${at}</small></h2><pre>${escapeHtml(str(p.task))}</pre></section>`);
        break;
      case 'step-start':
        current = { run, step: num(p.step) ?? frames.length + 1, model: str(p.model), at, text: '', calls: [], shots: [], screen: latestScreen, usd: undefined };
        frames.push(current);
        break;
      case 'tool-call-start': {
        const call = { name: str(p.toolName), input: str(p.input), summary: '', isError: false, durationMs: undefined };
        openCalls.set(str(p.toolCallId), call);
        current?.calls.push(call);
        break;
      }
      case 'tool-call-end': {
        const call = openCalls.get(str(p.toolCallId));
        if (call) Object.assign(call, { summary: str(p.summary), isError: p.isError === true, durationMs: num(p.durationMs) });
        break;
      }
      case 'screen-capture':
        if (typeof p.file === 'string' && screenshots.has(p.file)) {
          latestScreen = p.file;
          if (current) {
            current.shots.push(p.file);
            current.screen = p.file;
          }
        }
        break;
      case 'step-end':
        if (current) {
          current.text = str(p.text);
          current.usd = num((p.cost as Payload | undefined)?.usd);
        }
        break;
      case 'run-end':
        flushSteps();
        body.push(`<section class="result"><h2>Result: ${escapeHtml(str(p.outcome))} <small>${at}</small></h2><p>${escapeHtml(str(p.reason))}</p><p>${escapeHtml(str(p.steps))} steps in ${ms(num(p.durationMs))}, cost ${usd(num((p.cost as Payload | undefined)?.usd))}</p>${str(p.finalText).trim() ? `<pre>${escapeHtml(str(p.finalText).trim())}</pre>` : ''}</section>`);
        current = undefined;
        break;
      case 'control-take':
        body.push(`<p class="human">${at} a person took control of the display</p>`);
        break;
      case 'control-return':
        body.push(`<p class="human">${at} control handed back to the agent</p>`);
        break;
      default:
        break;
    }
  }
  flushSteps();

  // Steps are written out when their run ends (or at the end), after their screenshots are known.
  function flushSteps(): void {
    for (; flushed < frames.length; flushed++) {
      const index = flushed;
      const frame = frames[index] as Frame;
      const calls = frame.calls
        .map((call) => `<li class="${call.isError ? 'error' : 'ok'}"><b>${escapeHtml(call.name)}</b> <code>${escapeHtml(clip(call.input, 400))}</code><br>${call.isError ? '✗' : '✓'} ${escapeHtml(call.summary)} <small>${ms(call.durationMs)}</small></li>`)
        .join('');
      const shots = frame.shots.map((file) => `<img class="shot" alt="screen during step ${frame.step}" data-file="${escapeHtml(file)}" src="${dataUri(screenshots.get(file))}">`).join('');
      body.push(
        `<article class="step" id="frame-${index}" data-frame="${index}"><h3>Step ${frame.step}${run > 1 ? ` of task ${frame.run}` : ''} · ${escapeHtml(frame.model)} <small>${frame.at}${frame.usd !== undefined ? ` · ${usd(frame.usd)}` : ''}</small></h3>${frame.text.trim() ? `<p class="said">${escapeHtml(frame.text.trim())}</p>` : ''}${calls ? `<ul>${calls}</ul>` : ''}${shots}</article>`,
      );
    }
  }

  // The scrubber finds each frame's screen among the embedded images (no second copy).
  const frameScreens = frames.map((frame) => frame.screen ?? null);
  const screensNotInSteps = [...new Set(frameScreens.filter((file): file is string => file !== null && !frames.some((frame) => frame.shots.includes(file))))];
  const hidden = screensNotInSteps.map((file) => `<img class="shot" hidden data-file="${escapeHtml(file)}" src="${dataUri(screenshots.get(file))}">`).join('');
  const data = JSON.stringify({ screens: frameScreens, labels: frames.map((frame) => `step ${frame.step}${run > 1 ? ` of task ${frame.run}` : ''}`) }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nexora session ${escapeHtml(session.id)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;display:grid;grid-template-columns:minmax(320px,1fr) minmax(360px,1.2fr);height:100vh;color:#1d2330}
#transcript{overflow:auto;padding:16px 20px;border-right:1px solid #d7dce5}
#viewer{display:flex;flex-direction:column;padding:12px;gap:8px;background:#f4f6fa;min-height:0}
#screen{max-width:100%;max-height:calc(100vh - 110px);object-fit:contain;border:1px solid #c3cad8;background:#000;align-self:flex-start}
#scrubber{width:100%}
.controls{display:flex;gap:8px;align-items:center}
pre,code{font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
.step{border-left:3px solid #d7dce5;padding:2px 10px;margin:10px 0}
.step.current{border-left-color:#2f6fde;background:#eef3fd}
.step ul{padding-left:18px;margin:4px 0}.error{color:#b3261e}
.shot{max-width:240px;border:1px solid #c3cad8;margin:4px 4px 0 0;cursor:pointer}
.human{color:#6b4e00;background:#fff4d6;padding:2px 6px}
small{color:#6b7385;font-weight:normal}
</style></head>
<body>
<main id="transcript">
<h1>Nexora session ${escapeHtml(session.id)}</h1>
<p>${escapeHtml(session.model)} · ${escapeHtml(session.status)} · workspace ${escapeHtml(session.workspaceDir ?? '(none)')} · started ${session.createdAt.toISOString()}${session.endedAt ? `, ended ${session.endedAt.toISOString()}` : ''}</p>
${body.join('\n')}
${hidden}
</main>
<aside id="viewer">
<div class="controls"><button id="previous" type="button">◀</button><input id="scrubber" type="range" min="0" max="${Math.max(0, frames.length - 1)}" value="${Math.max(0, frames.length - 1)}" ${frames.length === 0 ? 'disabled' : ''}><button id="next" type="button">▶</button><span id="frame-label"></span></div>
<img id="screen" alt="the screen at the chosen step">
<p id="no-screen" hidden>No screenshot by this step.</p>
</aside>
<script type="application/json" id="frames">${data}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('frames').textContent);
  var scrubber = document.getElementById('scrubber');
  var screen = document.getElementById('screen');
  var label = document.getElementById('frame-label');
  var none = document.getElementById('no-screen');
  function source(file) {
    var images = document.querySelectorAll('img.shot');
    for (var i = 0; i < images.length; i++) if (images[i].getAttribute('data-file') === file) return images[i].src;
    return '';
  }
  function show(index, scroll) {
    if (!data.labels.length) { label.textContent = 'no steps'; return; }
    index = Math.max(0, Math.min(data.labels.length - 1, index));
    scrubber.value = String(index);
    label.textContent = data.labels[index] + ' (' + (index + 1) + '/' + data.labels.length + ')';
    var file = data.screens[index];
    screen.hidden = !file; none.hidden = !!file;
    if (file) { screen.src = source(file); screen.setAttribute('data-file', file); }
    var steps = document.querySelectorAll('.step');
    for (var i = 0; i < steps.length; i++) steps[i].classList.toggle('current', steps[i].getAttribute('data-frame') === String(index));
    var article = document.getElementById('frame-' + index);
    if (scroll && article) article.scrollIntoView({ block: 'nearest' });
  }
  scrubber.addEventListener('input', function () { show(Number(scrubber.value), true); });
  document.getElementById('previous').addEventListener('click', function () { show(Number(scrubber.value) - 1, true); });
  document.getElementById('next').addEventListener('click', function () { show(Number(scrubber.value) + 1, true); });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowLeft') show(Number(scrubber.value) - 1, true);
    if (event.key === 'ArrowRight') show(Number(scrubber.value) + 1, true);
  });
  var steps = document.querySelectorAll('.step');
  for (var i = 0; i < steps.length; i++) steps[i].addEventListener('click', function () { show(Number(this.getAttribute('data-frame')), false); });
  show(Number(scrubber.value), false);
})();
</script>
</body></html>
`;
}

function dataUri(png: Buffer | undefined): string {
  return png ? `data:image/png;base64,${png.toString('base64')}` : '';
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
