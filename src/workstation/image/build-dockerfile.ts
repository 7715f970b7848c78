import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { silentProgress, type BuildProgress } from './build-progress.js';
import { readEngineStream } from './engine-stream.js';
import type { ImageDefinition } from './image-definition.js';

/** The Dockerfile's base image (kept in step with its FROM line by a unit test). */
export const dockerfileBaseImage = 'ubuntu:24.04';

export interface BuildFromDockerfileOptions {
  docker: Docker;
  definition: ImageDefinition;
  labels: Record<string, string>;
  progress?: BuildProgress;
  signal?: AbortSignal;
}

/**
 * Builds files/Dockerfile through the Engine API's build endpoint with files/ as the
 * context, tagging the result with the definition's tag. Needs the base image (pulled from
 * a registry, or already present).
 */
export async function buildFromDockerfile(options: BuildFromDockerfileOptions): Promise<string> {
  const progress = options.progress ?? silentProgress;
  let imageId: string | undefined;
  try {
    const response = await options.docker.buildImage(
      { context: options.definition.filesDirectory, src: options.definition.files },
      {
        t: options.definition.tag,
        labels: options.labels,
        dockerfile: 'Dockerfile',
        rm: true,
        forcerm: true,
        ...(options.signal ? { abortSignal: options.signal } : {}),
      },
    );
    await readEngineStream(response, (message) => {
      const line = message.stream?.trim();
      if (line && /^Step \d+\/\d+/.test(line)) progress.progress(line);
      if (message.aux?.ID) imageId = message.aux.ID;
    });
  } catch (error) {
    if (options.signal?.aborted) throw new NexoraError('aborted', 'The image build was cancelled.', { cause: error });
    const text = describeError(error);
    if (/pull access denied|manifest unknown|not found|no such host|dial tcp|i\/o timeout|connection refused|TLS handshake|registry/i.test(text)) {
      throw new NexoraError(
        'image-build-failed',
        `The Dockerfile build needs the base image ${dockerfileBaseImage}, which could not be pulled (${text}). Without access to a container registry, build with \`nexora image build\` (no --dockerfile): it bootstraps the image from Debian's packages.`,
        { cause: error },
      );
    }
    throw new NexoraError('image-build-failed', `The Dockerfile build failed: ${text}`, { cause: error });
  }
  if (!imageId) {
    const image = await options.docker.getImage(options.definition.tag).inspect();
    imageId = image.Id;
  }
  return imageId;
}
