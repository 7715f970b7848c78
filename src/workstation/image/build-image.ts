import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { silentProgress, type BuildProgress } from './build-progress.js';
import { buildFromDockerfile } from './build-dockerfile.js';
import { importRootfs } from './build-rootfs.js';
import { imageLabel } from './image-config.js';
import { loadImageDefinition, type ImageDefinition } from './image-definition.js';
import { findImage, type WorkstationImage } from './image-store.js';

export interface BuildImageOptions {
  docker: Docker;
  /** Progress lines (the CLI passes its StepPrinter). */
  printer?: BuildProgress;
  /** Build files/Dockerfile (Ubuntu 24.04, needs a registry) instead of bootstrapping Debian. */
  dockerfile?: boolean;
  /** Build even when an image of the current definition exists. */
  force?: boolean;
  signal?: AbortSignal;
  /** Another definition than the installed one (tests). */
  definition?: ImageDefinition;
}

export interface BuildImageResult {
  tag: string;
  image: WorkstationImage;
  /** False when the image was already current and nothing was built. */
  built: boolean;
  durationMs: number;
}

/**
 * Makes sure the workstation image of the current definition exists: a no-op when it does
 * (unless `force`), otherwise a build with mmdebstrap (default) or the Dockerfile.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const started = performance.now();
  const printer = options.printer ?? silentProgress;
  const definition = options.definition ?? loadImageDefinition();
  const existing = await findImage(options.docker, definition.tag);
  if (existing && !options.force) {
    return { tag: definition.tag, image: existing, built: false, durationMs: performance.now() - started };
  }
  const recipe = options.dockerfile ? 'dockerfile' : 'mmdebstrap';
  const labels = { [imageLabel.kind]: 'workstation', [imageLabel.definition]: definition.hash, [imageLabel.recipe]: recipe };

  let imageId: string;
  if (options.dockerfile) {
    imageId = await printer.step(`Building ${definition.tag} from the Dockerfile`, () =>
      buildFromDockerfile({ docker: options.docker, definition, labels, progress: printer, ...(options.signal ? { signal: options.signal } : {}) }),
    );
  } else {
    imageId = await printer.step(
      `Building ${definition.tag} from Debian bookworm (mmdebstrap)`,
      () => importRootfs({ docker: options.docker, definition, labels, progress: printer, ...(options.signal ? { signal: options.signal } : {}) }),
      (id) => id.slice(7, 19),
    );
    const separator = definition.tag.lastIndexOf(':');
    const repo = definition.tag.slice(0, separator);
    const tag = definition.tag.slice(separator + 1);
    try {
      await options.docker.getImage(imageId).tag({ repo, tag });
    } catch (error) {
      throw new NexoraError('docker-failed', `Docker could not tag the new image ${imageId} as ${definition.tag}: ${describeError(error)}.`, { cause: error });
    }
  }
  if (existing && existing.id !== imageId) {
    // A forced rebuild leaves the old image untagged: drop it unless a container still uses it.
    await options.docker
      .getImage(existing.id)
      .remove()
      .catch(() => undefined);
  }
  const image = await findImage(options.docker, definition.tag);
  if (!image) throw new NexoraError('image-build-failed', `The build finished but ${definition.tag} is not in the engine: run \`nexora image build --force\`.`);
  return { tag: definition.tag, image, built: true, durationMs: performance.now() - started };
}
