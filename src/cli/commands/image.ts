import type { Command } from 'commander';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import { createDockerClient, pingDocker } from '../../workstation/docker/docker-client.js';
import { buildImage, listImages, loadImageDefinition, removeImage } from '../../workstation/image/index.js';
import { StepPrinter } from '../../output/step-printer.js';
import { formatBytes, formatDuration } from '../../output/format.js';
import { registerImageLoadNodesCommand } from './image-load-nodes.js';

const buildFlags = z.object({ dockerfile: z.boolean().default(false), force: z.boolean().default(false) }).strict();
const removeFlags = z.object({ old: z.boolean().default(false) }).strict();
const tagPattern = /^(nexora-workstation:[0-9a-f]{12}|sha256:[0-9a-f]{64}|[0-9a-f]{12,64})$/;

function parseFlags<T>(schema: z.ZodType<T>, flags: unknown, command: string): T {
  const parsed = schema.safeParse(flags);
  if (!parsed.success) {
    throw new NexoraError('invalid-argument', `nexora image ${command}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}. See \`nexora image ${command} --help\`.`);
  }
  return parsed.data;
}

async function connectedDocker(): Promise<ReturnType<typeof createDockerClient>> {
  const docker = createDockerClient();
  await pingDocker(docker);
  return docker;
}

/** `nexora image build|ls|rm`: the workstation image sessions run. */
export function registerImageCommand(program: Command): void {
  const image = program.command('image').description('build, list and remove the workstation image');
  registerImageLoadNodesCommand(image);

  image
    .command('build')
    .description('build the workstation image for the current definition (a no-op when it exists)')
    .option('--dockerfile', 'build the Ubuntu 24.04 Dockerfile instead (needs a container registry)')
    .option('--force', 'rebuild even when the image is current')
    .action(async (rawFlags: unknown) => {
      const flags = parseFlags(buildFlags, rawFlags, 'build');
      const printer = new StepPrinter();
      const docker = await connectedDocker();
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      try {
        const result = await buildImage({ docker, printer, dockerfile: flags.dockerfile, force: flags.force, signal: abort.signal });
        printer.info(
          result.built
            ? `built ${result.tag} (${formatBytes(result.image.sizeBytes)}) in ${formatDuration(result.durationMs)}`
            : `${result.tag} is current (${formatBytes(result.image.sizeBytes)}); nothing to build. Use --force to rebuild.`,
        );
      } finally {
        process.removeListener('SIGINT', onSignal);
      }
    });

  image
    .command('ls')
    .description('list workstation images')
    .action(async () => {
      const docker = await connectedDocker();
      const current = loadImageDefinition().tag;
      const images = await listImages(docker);
      const rows = images.map((entry) => ({
        tag: entry.tags[0] ?? `<untagged ${entry.id.slice(7, 19)}>`,
        current: entry.tags.includes(current) ? 'yes' : '',
        size: formatBytes(entry.sizeBytes),
        created: entry.created.toISOString().replace('T', ' ').slice(0, 19),
        recipe: entry.recipe ?? '',
      }));
      if (rows.length === 0) {
        console.log(`No workstation images. Build one with \`nexora image build\` (current definition: ${current}).`);
        return;
      }
      const header = { tag: 'TAG', current: 'CURRENT', size: 'SIZE', created: 'CREATED (UTC)', recipe: 'RECIPE' };
      const columns = ['tag', 'current', 'size', 'created', 'recipe'] as const;
      const widths = columns.map((column) => Math.max(header[column].length, ...rows.map((row) => row[column].length)));
      for (const row of [header, ...rows]) {
        console.log(columns.map((column, index) => row[column].padEnd(widths[index] ?? 0)).join('  ').trimEnd());
      }
    });

  image
    .command('rm')
    .description('remove workstation images (refuses images that running sessions use)')
    .argument('[tags...]', 'tags (nexora-workstation:<hash>) or image ids')
    .option('--old', 'remove every workstation image except the current one')
    .action(async (tags: string[], rawFlags: unknown) => {
      const flags = parseFlags(removeFlags, rawFlags, 'rm');
      if (flags.old === (tags.length > 0)) {
        throw new NexoraError('invalid-argument', 'nexora image rm: give either image tags or --old (not both, not neither). `nexora image ls` lists the tags.');
      }
      for (const tag of tags) {
        if (!tagPattern.test(tag)) throw new NexoraError('invalid-argument', `nexora image rm: "${tag}" is not a workstation image tag (nexora-workstation:<12 hex>) or image id. \`nexora image ls\` lists them.`);
      }
      const docker = await connectedDocker();
      let targets = tags;
      if (flags.old) {
        const current = loadImageDefinition().tag;
        targets = (await listImages(docker)).filter((entry) => !entry.tags.includes(current)).map((entry) => entry.tags[0] ?? entry.id);
        if (targets.length === 0) {
          console.log('No old workstation images.');
          return;
        }
      }
      const failures: NexoraError[] = [];
      for (const target of targets) {
        try {
          await removeImage(docker, target);
          console.log(`removed ${target}`);
        } catch (error) {
          if (!NexoraError.is(error)) throw error;
          failures.push(error);
        }
      }
      // The first failure's code (an image in use is a conflict, not a usage error) with every message.
      const [first] = failures;
      if (first) throw new NexoraError(first.code, failures.map((failure) => failure.message).join('\n'));
    });
}
