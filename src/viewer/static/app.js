// The web view: noVNC over the server's RFB proxy (which holds the VNC password), the
// transcript as it grows, and the take-over switch. Every URL is relative to /t/<token>/.
import RFB from './novnc/core/rfb.js';

const base = new URL('.', location.href);
const sessionsSelect = document.getElementById('sessions');
const statusLine = document.getElementById('status');
const costLine = document.getElementById('cost');
const controlButton = document.getElementById('control');
const transcript = document.getElementById('transcript');
const screen = document.getElementById('screen');
const approvalsPanel = document.getElementById('approvals');

let rfb;
let live;
let sessionId;
let holder = 'agent';

// A request that hangs (a server busy starting a workstation, a dropped connection) fails
// after a while instead of leaving the page empty.
const api = (path, init) => fetch(new URL(path, base), { signal: AbortSignal.timeout(10_000), ...init }).then((response) => {
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
});

function text(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function usd(value) {
  return typeof value === 'number' ? `$${value.toFixed(value < 0.01 ? 4 : 2)}` : '';
}

function ms(value) {
  if (typeof value !== 'number') return '';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

function entry(event) {
  const p = event.payload ?? {};
  switch (event.kind) {
    case 'run-start': return ['step', `Task: ${p.task}`];
    case 'step-start': return ['step', `Step ${p.step} · ${p.model}`];
    case 'tool-call-start': return ['tool', `→ ${p.toolName} ${text(p.input).slice(0, 300)}`];
    case 'tool-call-end': return [p.isError ? 'error' : 'tool', `${p.isError ? '✗' : '✓'} ${p.toolName}: ${p.summary} (${ms(p.durationMs)})${p.imageSent ? ' [screenshot]' : ''}`];
    case 'step-end': {
      if (p.sessionCost) costLine.textContent = `cost ${usd(p.sessionCost.usd)}`;
      return ['', `${p.text ? `${p.text}\n` : ''}${ms(p.durationMs)}, ${p.cost?.inputTokens ?? 0} in / ${p.cost?.outputTokens ?? 0} out, ${usd(p.cost?.usd)}`];
    }
    case 'run-end': {
      if (p.cost) costLine.textContent = `cost ${usd(p.cost.usd)}`;
      return [p.outcome === 'completed' ? 'step' : 'error', `${p.outcome}: ${p.reason}`];
    }
    case 'model-retry': return ['error', `retry ${p.attempt}: ${p.failure}`];
    case 'model-fallback': return ['error', `fallback ${p.from} → ${p.to}`];
    case 'control-take': return ['person', 'A person took control of the display.'];
    case 'control-return': return ['person', 'Control handed back to the agent.'];
    case 'human-input': {
      const clicks = (p.clicks ?? []).map((c) => `${c.button} click (${c.x}, ${c.y})`).join(', ');
      const typed = p.text ? `typed ${JSON.stringify(p.text)}` : p.keys ? `typed ${p.keys} key${p.keys === 1 ? '' : 's'}` : '';
      return ['person', `Person: ${typed}${typed && clicks ? '; ' : ''}${clicks}`];
    }
    case 'screen-capture': return ['screenshot', ''];
    default: return ['', `${event.kind}${event.durationMs != null ? ` (${ms(event.durationMs)})` : ''}`];
  }
}

function appendEvent(event) {
  // The conversation's own record (for resumes) repeats what the steps already show.
  if (event.kind === 'conversation-append' || event.kind === 'conversation-continue') return;
  const [className, body] = entry(event);
  const item = document.createElement('li');
  item.dataset.kind = event.kind;
  item.dataset.id = String(event.id);
  if (className) item.className = className;
  if (event.kind === 'screen-capture' && event.payload?.file) {
    const image = document.createElement('img');
    image.alt = 'screenshot';
    image.loading = 'lazy';
    image.src = new URL(`api/sessions/${encodeURIComponent(sessionId)}/screenshots/${encodeURIComponent(event.payload.file)}`, base).href;
    item.append(image);
  } else {
    item.textContent = body;
  }
  const atBottom = transcript.parentElement.scrollTop + transcript.parentElement.clientHeight >= transcript.parentElement.scrollHeight - 20;
  transcript.append(item);
  if (atBottom) item.scrollIntoView({ block: 'end' });
}

function setHolder(next) {
  holder = next;
  controlButton.disabled = !sessionId;
  controlButton.textContent = holder === 'person' ? 'Hand back' : 'Take control';
  controlButton.className = holder === 'person' ? 'person' : '';
  controlButton.dataset.holder = holder;
  if (rfb) rfb.viewOnly = holder !== 'person';
  if (holder === 'person') rfb?.focus();
}

// Commands the agent waits to run until a person says yes (runs started from a terminal that
// asks): answerable here too; the first answer, here or there, wins. Text only, never markup.
function showApprovals(questions) {
  approvalsPanel.replaceChildren();
  approvalsPanel.hidden = questions.length === 0;
  for (const question of questions) {
    const box = document.createElement('div');
    box.className = 'question';
    const what = document.createElement('div');
    what.textContent = question.tool === 'execute' ? 'The agent wants to run:' : 'The agent wants to type and submit:';
    const command = document.createElement('code');
    command.textContent = question.command;
    const why = document.createElement('div');
    why.textContent = `because it ${question.reasons.join('; ')}.`;
    const allow = document.createElement('button');
    allow.type = 'button';
    allow.textContent = 'Allow';
    allow.dataset.approval = question.id;
    allow.dataset.answer = 'allow';
    const refuse = document.createElement('button');
    refuse.type = 'button';
    refuse.textContent = 'Refuse';
    refuse.dataset.approval = question.id;
    refuse.dataset.answer = 'refuse';
    const answer = async (approved) => {
      allow.disabled = true;
      refuse.disabled = true;
      try {
        const result = await api(`api/sessions/${encodeURIComponent(sessionId)}/approvals`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: question.id, approved }),
        });
        showApprovals(result.approvals);
      } catch (error) {
        why.textContent = `Could not answer: ${error.message} (it may have been answered in the terminal).`;
      }
    };
    allow.addEventListener('click', () => answer(true));
    refuse.addEventListener('click', () => answer(false));
    box.append(what, command, why, allow, refuse);
    approvalsPanel.append(box);
  }
}

function connect(id) {
  rfb?.disconnect();
  live?.close();
  transcript.replaceChildren();
  costLine.textContent = '';
  sessionId = id;
  location.hash = encodeURIComponent(id);
  const wsUrl = new URL(`ws/${encodeURIComponent(id)}`, base);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  rfb = new RFB(screen, wsUrl.href, { wsProtocols: ['binary'], shared: true });
  rfb.viewOnly = true;
  rfb.scaleViewport = true;
  rfb.background = '#111';
  rfb.addEventListener('connect', () => { statusLine.textContent = `${id}: live`; statusLine.dataset.state = 'connected'; });
  rfb.addEventListener('disconnect', (event) => {
    statusLine.textContent = `${id}: ${event.detail.clean ? 'disconnected' : 'connection lost'}`;
    statusLine.dataset.state = 'disconnected';
  });
  live = new EventSource(new URL(`api/sessions/${encodeURIComponent(id)}/live`, base));
  live.addEventListener('transcript', (message) => appendEvent(JSON.parse(message.data)));
  live.addEventListener('control', (message) => setHolder(JSON.parse(message.data).holder));
  live.addEventListener('approvals', (message) => showApprovals(JSON.parse(message.data)));
  showApprovals([]);
  window.nexoraViewer = { get rfb() { return rfb; }, get holder() { return holder; }, sessionId: id };
}

controlButton.addEventListener('click', async () => {
  controlButton.disabled = true;
  try {
    const result = await api(`api/sessions/${encodeURIComponent(sessionId)}/control`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: holder === 'person' ? 'hand-back' : 'take' }),
    });
    setHolder(result.holder);
  } finally {
    controlButton.disabled = false;
  }
});

sessionsSelect.addEventListener('change', () => connect(sessionsSelect.value));

async function loadSessions() {
  const { sessions } = await api('api/sessions');
  const wanted = decodeURIComponent(location.hash.slice(1));
  sessionsSelect.replaceChildren(...sessions.map((session) => {
    const option = document.createElement('option');
    option.value = session.id;
    option.textContent = `${session.id} · ${session.status} · ${session.workspaceDir ?? ''}`;
    return option;
  }));
  const chosen = sessions.find((session) => session.id === wanted) ?? sessions[0];
  if (!chosen) {
    statusLine.textContent = 'No sessions: start one with `nexora` or `nexora run`.';
    return;
  }
  sessionsSelect.value = chosen.id;
  connect(chosen.id);
}

async function loadSessionsPatiently(attempt = 1) {
  try {
    await loadSessions();
  } catch (error) {
    statusLine.textContent = `Could not load sessions: ${error.message}${attempt < 5 ? ' (trying again)' : ''}`;
    if (attempt < 5) setTimeout(() => loadSessionsPatiently(attempt + 1), 1000 * attempt);
  }
}

loadSessionsPatiently();
