import { connectToServer } from '../../client/ensure-server.js';
import type { NexoraClient } from '../../client/nexora-client.js';

/**
 * Runs a command body against the home's server, starting the server in the background
 * when none answers (and saying so, once, on stderr).
 */
export async function withServer<T>(run: (client: NexoraClient) => Promise<T>): Promise<T> {
  // Said to a person at a terminal; scripts and pipes get only the command's own output.
  const { client } = await connectToServer(process.stderr.isTTY ? { onStart: (line) => process.stderr.write(`nexora: ${line}\n`) } : {});
  try {
    return await run(client);
  } finally {
    client.close();
  }
}
