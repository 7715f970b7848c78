// Drive a Nexora workstation from your own code:
//   npm install nexora && node --import tsx sdk-session.ts /path/to/project
// It starts (or finds) the Nexora server, starts a session on the project, types a command
// into the visible terminal, reads the screen back, runs a command on the side channel, and
// stops the session.
import { writeFileSync } from 'node:fs';
import { Nexora, NexoraError } from 'nexora';

const workspace = process.argv[2] ?? process.cwd();
const nx = await Nexora.connect();
const session = await nx.sessions.start({ workspace, timeoutMs: 300_000 });
try {
  console.log(`session ${session.id} started on ${workspace}`);

  // Typed into the terminal as a person would; returns once the shell waits for input again.
  const typed = await session.keyboard({ text: 'echo "hello from $(hostname)" && ls /workspace\n', waitFor: 'input', waitMs: 10_000 });
  console.log(`keyboard: ${typed.keystrokes} keys, wait ended by ${typed.wait.outcome}`);

  const screen = await session.screen({ timeoutMs: 30_000 });
  const line = screen.text.split('\n').find((row) => row.startsWith('hello from'));
  console.log(`screen: ${screen.width}x${screen.height}, ${screen.png?.length ?? 0} bytes of PNG; terminal says: ${line ?? '(nothing yet)'}`);
  if (screen.png && process.env.SCREENSHOT) writeFileSync(process.env.SCREENSHOT, screen.png);

  const result = await session.execute('git --version && id -un', { timeoutMs: 20_000 });
  console.log(`execute: exit ${result.exitCode} in ${Math.round(result.durationMs)} ms: ${result.stdout.trim().replaceAll('\n', ' | ')}`);

  // Errors are NexoraErrors with a code.
  await session.execute('', {}).catch((error: unknown) => {
    if (NexoraError.is(error)) console.log(`an empty command is refused: ${error.code}`);
    else throw error;
  });

  const listed = await nx.sessions.list();
  console.log(`sessions running: ${listed.length}`);
} finally {
  const stopped = await session.stop({ timeoutMs: 120_000 });
  console.log(`session ${session.id} ${stopped.status}`);
  nx.close();
}
