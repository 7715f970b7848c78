import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { imageLabel, imageRepository } from './image-config.js';

/** A workstation image present in the engine. */
export interface WorkstationImage {
  id: string;
  /** Its `nexora-workstation:<hash>` tags (usually one); empty when untagged. */
  tags: string[];
  /** The full definition hash it was built from. */
  definition: string | undefined;
  /** `mmdebstrap` or `dockerfile`. */
  recipe: string | undefined;
  sizeBytes: number;
  created: Date;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function engineFailure(action: string, error: unknown): NexoraError {
  return new NexoraError('docker-failed', `Docker could not ${action}: ${describeError(error)}. Check that the engine is running and reachable (DOCKER_HOST).`, { cause: error });
}

/** The image with this tag (or id), or undefined when the engine does not have it. */
export async function findImage(docker: Docker, reference: string): Promise<WorkstationImage | undefined> {
  try {
    const info = await docker.getImage(reference).inspect();
    const labels = info.Config?.Labels ?? {};
    return {
      id: info.Id,
      tags: (info.RepoTags ?? []).filter((tag) => tag.startsWith(`${imageRepository}:`)),
      definition: labels[imageLabel.definition],
      recipe: labels[imageLabel.recipe],
      sizeBytes: info.Size,
      created: new Date(info.Created),
    };
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw engineFailure(`inspect image ${reference}`, error);
  }
}

/** Every workstation image in the engine (by label), newest first. */
export async function listImages(docker: Docker): Promise<WorkstationImage[]> {
  let images: Docker.ImageInfo[];
  try {
    images = await docker.listImages({ filters: { label: [`${imageLabel.kind}=workstation`] } });
  } catch (error) {
    throw engineFailure('list images', error);
  }
  return images
    .map((image) => ({
      id: image.Id,
      tags: (image.RepoTags ?? []).filter((tag) => tag.startsWith(`${imageRepository}:`)),
      definition: image.Labels?.[imageLabel.definition],
      recipe: image.Labels?.[imageLabel.recipe],
      sizeBytes: image.Size,
      created: new Date(image.Created * 1000),
    }))
    .sort((a, b) => b.created.getTime() - a.created.getTime());
}

/**
 * Removes a workstation image by tag or id. Refuses when a running container uses it (a
 * live session would lose its image under it), and says which containers to stop.
 */
export async function removeImage(docker: Docker, reference: string): Promise<void> {
  const image = await findImage(docker, reference);
  if (!image) throw new NexoraError('image-missing', `There is no image ${reference}: \`nexora image ls\` lists the workstation images.`);
  if (image.definition === undefined && !image.tags.length) {
    throw new NexoraError('invalid-argument', `${reference} is not a workstation image: \`nexora image rm\` only removes images \`nexora image ls\` lists.`);
  }
  let users: Docker.ContainerInfo[];
  try {
    users = (await docker.listContainers({ all: true })).filter((container) => container.ImageID === image.id);
  } catch (error) {
    throw engineFailure('list containers', error);
  }
  const running = users.filter((container) => container.State === 'running' || container.State === 'paused');
  if (running.length > 0) {
    const names = running.map((container) => (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, '')).join(', ');
    throw new NexoraError('image-in-use', `${reference} is used by running container(s) ${names}: stop those sessions first, then remove the image.`);
  }
  const stopped = users.filter((container) => !running.includes(container));
  if (stopped.length > 0) {
    const names = stopped.map((container) => (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, '')).join(', ');
    throw new NexoraError('image-in-use', `${reference} is used by stopped container(s) ${names}: remove those containers first, then the image.`);
  }
  try {
    await docker.getImage(reference).remove();
  } catch (error) {
    if (statusCode(error) === 409) {
      throw new NexoraError('docker-failed', `Docker refused to remove ${reference}: ${describeError(error)}. Remove the containers that use it first.`, { cause: error });
    }
    throw engineFailure(`remove image ${reference}`, error);
  }
}
