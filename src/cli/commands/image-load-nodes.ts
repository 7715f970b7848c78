import type { Command } from 'commander';
import Docker from 'dockerode';
import { NexoraError } from '../../errors.js';
import { loadSessionConfig } from '../../sessions/session-config.js';
import { createDockerClient, dockerOptionsFromEnv, pingDocker } from '../../workstation/docker/docker-client.js';
import { workstationImageTag } from '../../workstation/image/index.js';
import { ClusterNodes } from '../../workstation/swarm/cluster-nodes.js';
import { loadImageOntoNodes } from '../../workstation/swarm/load-image.js';
import { StepPrinter } from '../../output/step-printer.js';
import { formatBytes, formatDuration } from '../../output/format.js';

/**
 * `nexora image load-nodes`: the workstation image onto every ready swarm node, streamed from
 * the engine it was built on (DOCKER_HOST) into each node's engine (NEXORA_SWARM_NODES), with
 * no registry. Nodes that have it are skipped.
 */
export function registerImageLoadNodesCommand(image: Command): void {
  image
    .command('load-nodes')
    .description('copy the workstation image onto every swarm node (NEXORA_BACKEND=swarm), without a registry')
    .option('--image <tag>', 'the image to copy (default: the current definition, or NEXORA_WORKSTATION_IMAGE)')
    .action(async (raw: { image?: string }) => {
      const config = loadSessionConfig();
      if (!config.swarm) {
        throw new NexoraError('invalid-config', 'nexora image load-nodes needs NEXORA_BACKEND=swarm and NEXORA_SWARM_NODES (each node\'s Engine API endpoint). See docs/swarm.md.');
      }
      const tag = raw.image ?? (process.env.NEXORA_WORKSTATION_IMAGE || workstationImageTag());
      const printer = new StepPrinter();
      const source = createDockerClient();
      await pingDocker(source);
      const manager = new Docker(dockerOptionsFromEnv(config.swarm.manager ? { ...process.env, DOCKER_HOST: config.swarm.manager } : process.env));
      const nodes = new ClusterNodes({ manager, endpoints: config.swarm.nodes });
      const ready = (await nodes.list()).filter((node) => node.state === 'ready' && node.availability === 'active');
      const unreachable = ready.filter((node) => !nodes.hasEndpoint(node.hostname)).map((node) => node.hostname);
      if (unreachable.length > 0) printer.info(`skipping ${unreachable.join(', ')}: no endpoint in NEXORA_SWARM_NODES`);
      const targets = ready.filter((node) => nodes.hasEndpoint(node.hostname)).map((node) => ({ name: node.hostname, docker: nodes.engine(node.hostname) }));
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      try {
        const result = await printer.step(`loading ${tag} onto ${targets.length} node(s)`, () =>
          loadImageOntoNodes({
            source,
            image: tag,
            targets,
            signal: abort.signal,
            onProgress: (progress) => printer.progress(`${formatBytes(progress.bytes)} streamed to ${progress.nodes.join(', ')}`),
          }),
        );
        printer.info(
          `${result.loaded.length > 0 ? `loaded onto ${result.loaded.join(', ')} (${formatBytes(result.bytes)}) in ${formatDuration(result.durationMs)}` : 'nothing to load'}` +
            `${result.alreadyPresent.length > 0 ? `; already on ${result.alreadyPresent.join(', ')}` : ''}`,
        );
      } finally {
        process.removeListener('SIGINT', onSignal);
      }
    });
}
