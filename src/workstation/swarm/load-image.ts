import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { dockerError, isNotFound } from '../docker/docker-backend.js';
import { exportImage, inspectImage } from '../docker/engine-requests.js';

export interface ImageTarget {
  /** The node's name, for progress and errors. */
  name: string;
  docker: Docker;
}

export interface LoadProgress {
  /** Bytes of the image archive read from the source engine so far. */
  bytes: number;
  /** Nodes that are loading (the others already had it). */
  nodes: readonly string[];
  phase: 'streaming' | 'done';
}

export interface LoadImageOptions {
  /** The engine that has the image (the one `nexora image build` built it on). */
  source: Docker;
  image: string;
  targets: readonly ImageTarget[];
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /** Default 15 min: a 2.3 GB image loads in a minute or two per node here. */
  timeoutMs?: number;
}

export interface LoadImageResult {
  loaded: string[];
  alreadyPresent: string[];
  bytes: number;
  durationMs: number;
}

/**
 * Puts the workstation image on every node without a registry: the source engine's image
 * archive (`GET /images/{name}/get`) is read once and streamed into each node's
 * `POST /images/load` at the same time (the slowest node sets the pace). Nodes that have the
 * image already are skipped.
 */
export async function loadImageOntoNodes(options: LoadImageOptions): Promise<LoadImageResult> {
  const begun = Date.now();
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 15 * 60_000);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const alreadyPresent: string[] = [];
  const pending: ImageTarget[] = [];
  for (const target of options.targets) {
    if (await hasImage(target, options.image, signal)) alreadyPresent.push(target.name);
    else pending.push(target);
  }
  if (pending.length === 0) return { loaded: [], alreadyPresent, bytes: 0, durationMs: Date.now() - begun };
  let archive: NodeJS.ReadableStream;
  try {
    archive = await exportImage(options.source, options.image, signal);
  } catch (error) {
    if (isNotFound(error)) throw new NexoraError('image-missing', `The image ${options.image} is not on this engine: build it first with \`nexora image build\`.`, { cause: error });
    throw dockerError(`read the image ${options.image}`, error);
  }
  let bytes = 0;
  let lastReport = 0;
  const names = pending.map((target) => target.name);
  archive.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes - lastReport >= 64 * 1024 ** 2) {
      lastReport = bytes;
      options.onProgress?.({ bytes, nodes: names, phase: 'streaming' });
    }
  });
  const abort = (): void => {
    (archive as NodeJS.ReadableStream & { destroy?: (error?: Error) => void }).destroy?.(new Error('aborted'));
  };
  signal.addEventListener('abort', abort, { once: true });
  try {
    await Promise.all(
      pending.map(async (target) => {
        // pipe() to several destinations waits for the slowest one: memory stays bounded.
        const copy = new PassThrough({ highWaterMark: 4 * 1024 ** 2 });
        archive.pipe(copy);
        try {
          const response = await target.docker.loadImage(copy, { quiet: true, abortSignal: signal } as Parameters<Docker['loadImage']>[1]);
          await drain(response);
        } catch (error) {
          throw new NexoraError('docker-failed', `Could not load ${options.image} onto node ${target.name}: ${describeError(error)}`, { cause: error });
        }
        if (!(await hasImage(target, options.image, signal))) {
          throw new NexoraError('docker-failed', `Node ${target.name} accepted the image archive but does not list ${options.image} afterwards.`);
        }
      }),
    );
  } finally {
    signal.removeEventListener('abort', abort);
  }
  options.onProgress?.({ bytes, nodes: names, phase: 'done' });
  return { loaded: names, alreadyPresent, bytes, durationMs: Date.now() - begun };
}

async function hasImage(target: ImageTarget, image: string, signal: AbortSignal): Promise<boolean> {
  try {
    await inspectImage(target.docker, image, signal);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw dockerError(`inspect ${image} on node ${target.name}`, error);
  }
}

/** Reads the engine's answer to the end (the load finishes when it does) and surfaces its error line. */
function drain(response: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = '';
    response.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    response.on('end', () => {
      const error = /"error":\s*"([^"]*)"/.exec(tail);
      if (error) reject(new Error(error[1]));
      else resolve();
    });
    response.on('error', reject);
  });
}
