// The agent loop's own cost per step and the size of what it sends, against the scripted
// model server (real AI SDK clients over HTTP) with an in-memory workstation, so only our
// work is measured: parsing the stream, running the (instant) tool, rendering the context,
// serialising the request. Prints Markdown; with --write it replaces its BENCHMARKS.md section.
//   npx tsx bench/agent-loop.ts [--steps 40] [--write]
import { startAgentRun } from '../src/agent/agent-run.js';
import { ProviderRegistry } from '../src/providers/registry.js';
import { encodePng } from '../src/tools/png-encode.js';
import { diffScreens } from '../src/tools/screen-diff.js';
import type { ScreenResult, VisualTools } from '../src/tools/types.js';
import { ScriptedModelServer } from '../test/model-server/server.js';
import { writeSection } from './lib/report.js';
import { ms, summarise } from './lib/stats.js';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 40;
const width = 1280;
const height = 800;

/** A 1280×800 "terminal" whose PNG changes a little on every look, like a real one. */
function tools(): VisualTools {
  let look = 0;
  let previous: string[] | undefined;
  const frame = new Uint8Array(width * height * 4).fill(30);
  const screen = (): ScreenResult => {
    look++;
    // A changed text row: 16 pixel rows of varying colour.
    frame.fill(look * 7, ((look * 16) % height) * width * 4, (((look * 16) % height) + 16) * width * 4);
    const lines = Array.from({ length: 39 }, (_, row) => (row <= look % 39 ? `line ${row} of look ${look}` : ''));
    const changes = diffScreens(previous, lines);
    previous = lines;
    return { png: encodePng(frame, width, height), text: lines.join('\n'), width, height, cursor: { row: 0, column: 0 }, timestamp: new Date().toISOString(), changes };
  };
  return {
    screen: () => Promise.resolve(screen()),
    keyboard: () => Promise.resolve({ keystrokes: 1, wait: { outcome: 'quiet', waitedMs: 0 }, screen: screen() }),
    mouse: () => Promise.reject(new Error('unused')),
    execute: () => Promise.resolve({ stdout: 'ok\n', stderr: '', exitCode: 0, durationMs: 1, timedOut: false, truncated: false }),
  };
}

async function run(wire: 'anthropic' | 'openai', keepImages: number) {
  const turns = [
    ...Array.from({ length: steps - 1 }, () => ({ respond: { toolCalls: [{ name: 'screen', input: {} }], usage: { input: 1000, output: 20, cached: 0 } } })),
    { respond: { text: 'done' } },
  ];
  const server = await ScriptedModelServer.start({ script: { name: 'bench', turns } });
  try {
    const registry = new ProviderRegistry({
      env: { BENCH_KEY: 'k' },
      providers: { bench: { kind: wire, baseUrl: server.openAiBaseUrl, apiKeyEnv: 'BENCH_KEY' } },
      models: { 'bench/m': { capabilities: { tools: true, vision: true, imagesInToolResults: true, contextTokens: 1_000_000 } } },
    });
    const candidates = await registry.candidates({ strategy: 'explicit', model: 'bench/m', needs: { tools: true, vision: true } });
    const stepEnds: number[] = [];
    const run = startAgentRun({
      sessionId: 'bench',
      task: 'look around',
      tools: tools(),
      candidates,
      retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 },
      maxSteps: steps + 1,
      keepImages,
      imageDropChunk: 3,
      maxToolOutputChars: 8000,
      maxOutputTokens: 1024,
      screenImages: 'auto',
    });
    run.events.subscribe((event) => {
      if (event.type === 'step-end') stepEnds.push(performance.now() + performance.timeOrigin);
    });
    const result = await run.result;
    if (result.outcome !== 'completed' || server.violations.length > 0) throw new Error(`bench run failed: ${result.reason} ${server.violations.join('; ')}`);
    // Our overhead: from the end of one model reply to the arrival of the next request.
    const gaps = server.requests.slice(1).map((request, index) => request.receivedAt - (stepEnds[index] ?? 0));
    const bytes = server.requests.map((request) => JSON.stringify(request.body).length);
    const images = server.requests.map((request) => (JSON.stringify(request.body).match(/iVBORw0KGgo/g) ?? []).length);
    return { gap: summarise(gaps), lastBytes: bytes.at(-1) ?? 0, maxImages: Math.max(...images) };
  } finally {
    await server.close();
  }
}

const rows: string[] = [];
for (const wire of ['anthropic', 'openai'] as const) {
  const lean = await run(wire, 3);
  const all = await run(wire, 1000);
  rows.push(
    `| ${wire} | ${ms(lean.gap.p50)} / ${ms(lean.gap.p95)} | ${(lean.lastBytes / 1024).toFixed(0)} KiB, ${lean.maxImages} images at most | ${(all.lastBytes / 1024).toFixed(0)} KiB, ${all.maxImages} images |`,
  );
}
const body = `| wire | loop overhead per step p50 / p95 | request at step ${steps}, last 3 screenshots kept (dropped 3 at a time) | same, every screenshot kept |
| --- | --- | --- | --- |
${rows.join('\n')}

${steps} steps, each a screen() of a 1280×800 display that changed a little (PNG of the frame encoded by the tools' encoder). Overhead is measured from the end of a model reply to the arrival of the next request at the scripted model server: stream parsing, the tool call, rendering the context and serialising the request. Screenshots travel inside tool results (Anthropic) or in a user message after them (Chat Completions).`;
process.stdout.write(`${body}\n`);
if (process.argv.includes('--write')) writeSection('agent-loop', 'Agent loop: overhead per step and context size', 'npx tsx bench/agent-loop.ts --write', body);
