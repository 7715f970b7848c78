// A Nexora backend in a process that is not root (run under setpriv by egress.test.ts): it
// creates two workstations on a fresh default network and prints each create's warnings, one
// JSON line each, then removes its containers. Run: node --import tsx egress-child.ts '<json>'.
import { z } from 'zod';
import { DockerBackend } from '../../src/workstation/docker/docker-backend.js';
import { createDockerClient } from '../../src/workstation/docker/docker-client.js';
import { currentOwner } from '../../src/workstation/labels.js';

const config = z
  .object({ image: z.string(), labels: z.record(z.string(), z.string()), namePrefix: z.string(), networkName: z.string(), workspace: z.string(), ports: z.array(z.number()).length(4) })
  .parse(JSON.parse(process.argv[2] ?? '{}'));
const docker = createDockerClient();
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const backend = new DockerBackend({ docker, image: config.image, owner: currentOwner('egress-child'), labels: config.labels, namePrefix: config.namePrefix, networkName: config.networkName });
const ids: string[] = [];
try {
  for (const index of [0, 1]) {
    const created = await backend.create({ sessionId: `egress${index}`, workspaceDir: config.workspace, user: { uid, gid }, vncPort: config.ports[index * 2] ?? 0, cdpPort: config.ports[index * 2 + 1] ?? 0 });
    ids.push(created.id);
    process.stdout.write(`${JSON.stringify(created.warnings)}\n`);
  }
} finally {
  for (const id of ids) await backend.remove(id).catch(() => undefined);
}
