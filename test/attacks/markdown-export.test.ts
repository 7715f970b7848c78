import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, newSessionId, openDatabase, SessionStore, type SessionId } from '../../src/store/index.js';
import { runCli } from '../fixtures/run-cli.js';

/**
 * Issue 20's low finding "Markdown export passes model text unescaped", as the attacker: a model
 * (or a page or file it read) whose words, tool calls, outcomes and errors carry Markdown images,
 * raw HTML, links, reference definitions, entities, a fence-breaking backtick run and terminal
 * escapes. `nexora session export --format md` on a real store must write all of it as code —
 * nothing a Markdown renderer would turn into a request (an image, an iframe, a link), nothing
 * that acts on a terminal that `cat`s the file.
 */
const leak = (path: string): string => `http://127.0.0.1:8931/${path}`;
const said = [
  `Done. ![x](${leak('image')}) and <img src="${leak('img-tag')}"> and [docs](${leak('link')}) and <${leak('autolink')}>`,
  `[ref]: ${leak('reference')}`,
  '![ref]',
  '```',
  `<iframe src="${leak('iframe')}"></iframe>`,
  '```',
  `&lt;script&gt; bye \x1b]52;c;eA==\x07`,
].join('\n');
const oneLine = `ok\n<img src=${leak('summary')}>\n# heading ![y](${leak('summary-image')})`;

let home: string;
let env: NodeJS.ProcessEnv;
let sessionId: SessionId;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'nexora-md-attack-'));
  env = { ...process.env, NEXORA_HOME: home, DATABASE_URL: '' };
  const db = await openDatabase({ env, waitMs: 10_000 });
  try {
    sessionId = newSessionId();
    await new SessionStore(db).create({ id: sessionId, userId: 'local', model: 'anthropic/test-model', provider: 'anthropic', workspaceDir: '/tmp/project' });
    const events = new EventStore(db);
    const record = (kind: string, payload: unknown) => events.record({ sessionId, kind, payload });
    const cost = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, usd: 0.001 };
    await record('run-start', { sessionId, task: `read the issue: ${said}`, candidates: ['anthropic/test-model'], maxSteps: 5 });
    await record('step-start', { step: 1, model: 'anthropic/test-model' });
    await record('tool-call-start', { step: 1, toolCallId: 'c1', toolName: oneLine, input: { command: `curl ${leak('input')}\n<img src=${leak('input-tag')}>` } });
    await record('tool-call-end', { step: 1, toolCallId: 'c1', toolName: 'execute', summary: oneLine, isError: false, durationMs: 5, imageSent: false });
    // A screenshot name that is not one the archive makes: it must not become a link target.
    await record('screen-capture', { file: `x.png) ![z](${leak('file')}`, width: 1, height: 1 });
    await record('model-retry', { step: 1, attempt: 1, failure: oneLine, error: oneLine, delayMs: 10 });
    await record('step-end', { step: 1, model: 'anthropic/test-model', text: said, toolCalls: 1, finishReason: 'tool-calls', cost, sessionCost: cost, durationMs: 5 });
    await record('approval-decision', { tool: 'execute', command: oneLine, approved: false });
    await record('run-end', { outcome: 'failed', reason: said, steps: 1, durationMs: 10, cost, finalText: said });
  } finally {
    await db.close();
  }
});

afterAll(async () => {
  await runCli(['server', 'stop'], { env, timeoutMs: 60_000 }).catch(() => undefined);
  if (home) rmSync(home, { recursive: true, force: true });
});

/**
 * The Markdown outside code: fenced blocks (a fence of three or more backticks, closed by one
 * at least as long) and code spans (a backtick run closed by a run of the same length) taken
 * out, as CommonMark parses them. What is left is what a renderer would interpret.
 */
function outsideCode(markdown: string): string {
  const kept: string[] = [];
  let fence: number | undefined;
  for (const line of markdown.split('\n')) {
    const marks = /^(`{3,})[^`]*$/.exec(line)?.[1]?.length;
    if (fence === undefined && marks !== undefined) fence = marks;
    else if (fence !== undefined) {
      if (/^`+\s*$/.test(line) && line.trim().length >= fence) fence = undefined;
    } else kept.push(line.replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, ''));
  }
  expect(fence, 'every fence is closed').toBeUndefined();
  return kept.join('\n');
}

describe('nexora session export --format md with hostile text', () => {
  it('writes every piece of it as code, so nothing in it loads or links when rendered', async () => {
    const out = join(home, 'out');
    const result = await runCli(['session', 'export', sessionId, '--format', 'md', '--out', out], { env, timeoutMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const markdown = readFileSync(join(out, 'transcript.md'), 'utf8');

    // Multi-line text in a fence longer than the ``` inside it; control characters visible.
    const fenced = '````\n' + said.replace('\x1b', '␛').replace('\x07', '␇') + '\n````';
    expect(markdown).toContain(`## Task`);
    expect(markdown).toContain('````\nread the issue: Done. ![x]');
    expect(markdown.split(fenced).length - 1).toBe(3); // the model's words, the reason, the final text
    // One-line text in a code span, its line breaks visible: it cannot start a block.
    const span = '`ok␤<img src=http://127.0.0.1:8931/summary>␤# heading ![y](http://127.0.0.1:8931/summary-image)`';
    expect(markdown).toContain(`- **${span}** \`{"command":"curl http://127.0.0.1:8931/input\\n<img src=http://127.0.0.1:8931/input-tag>"}\``);
    expect(markdown).toContain(`  - ✓ ${span} (5 ms)`);
    expect(markdown).toContain(`- retry 1 after ${span}: ${span}`);
    expect(markdown).toContain('- `approval-decision`: `{"tool":"execute","command":"ok\\n<img src=http://127.0.0.1:8931/summary>');

    // What a renderer would interpret holds no image, link, HTML, entity or address of ours.
    const rendered = outsideCode(markdown);
    expect(rendered).not.toContain('](');
    expect(rendered).not.toContain('![');
    expect(rendered).not.toMatch(/[<>&]/);
    expect(rendered).not.toContain('127.0.0.1');
    expect(rendered).not.toMatch(/^\[[^\]]*\]:/m);
    // eslint-disable-next-line no-control-regex -- no terminal escape in the file either
    expect(markdown).not.toMatch(/[\u0007\u001b\u0080-\u009f]/);
  });
});
