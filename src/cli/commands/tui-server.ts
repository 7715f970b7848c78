import { connectToServer } from '../../client/ensure-server.js';
import { serverFiles } from '../../client/server-files.js';
import { NexoraError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { NexoraServer } from '../../server/nexora-server.js';
import { fileLog } from '../../server/server-log.js';

/**
 * The TUI is the home's server while it runs: it holds the store, the sessions and their
 * channels in this process (the agent loop streams into Ink without a hop), and serves the
 * same API on the home's socket, so `nexora session list`, `nexora view`, MCP clients and the
 * SDK work beside it. A background server that is idle hands over to it (sessions keep
 * running and are adopted); one with runs in progress is left alone, with a message.
 */
export async function hostServerForTui(options: { onNote: (line: string) => void }): Promise<NexoraServer> {
  const log = fileLog({ file: serverFiles(nexoraPaths()).log });
  try {
    return await NexoraServer.open({ log });
  } catch (error) {
    if (!NexoraError.is(error, 'server-running')) throw error;
  }
  await takeOver(options.onNote);
  // The old server stops answering before it has closed the store and dropped its lock.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await NexoraServer.open({ log });
    } catch (error) {
      if (!NexoraError.is(error, 'server-running') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function takeOver(onNote: (line: string) => void): Promise<void> {
  const { client, health } = await connectToServer({ autoStart: false });
  try {
    const { runs } = await client.get<{ runs: { id: string; task: string }[] }>('/v1/runs');
    if (runs.length > 0) {
      throw new NexoraError(
        'server-running',
        `The Nexora server (pid ${health.pid}) has ${runs.length} agent run(s) in progress (${runs.map((run) => run.id).join(', ')}): the TUI takes the server over only when it is idle. Wait for the runs to end, or interrupt them (\`nexora server status\`).`,
      );
    }
    onNote(`taking over from the background Nexora server (pid ${health.pid}); its sessions keep running`);
    await client.post('/v1/server/stop', {});
  } finally {
    client.close();
  }
  // Its lock goes when it has closed the store; wait for that, bounded.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const still = await connectToServer({ autoStart: false }).then(
      (connected) => {
        connected.client.close();
        return true;
      },
      () => false,
    );
    if (!still) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new NexoraError('server-running', `The background Nexora server did not stop within 30 s: stop it with \`nexora server stop\` and start the TUI again.`);
}
