import type Docker from 'dockerode';

/**
 * The Engine API requests dockerode sends without passing a signal on (image inspect and
 * export, network inspect, ping), sent through its modem with one: when the signal fires the
 * request and its connection are closed, not left waiting on a wedged engine.
 */

function dial<T>(docker: Docker, options: { path: string; statusCodes: Record<number, string | boolean>; isStream?: boolean; signal: AbortSignal }): Promise<T> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(options.signal.reason as Error);
      return;
    }
    docker.modem.dial(
      { path: options.path, method: 'GET', statusCodes: options.statusCodes, abortSignal: options.signal, ...(options.isStream ? { isStream: true } : {}) },
      (error, result) => {
        if (error) reject(error);
        else resolve(result as T);
      },
    );
  });
}

/** `GET /images/{name}/json`; a missing image fails with statusCode 404. */
export function inspectImage(docker: Docker, name: string, signal: AbortSignal): Promise<Docker.ImageInspectInfo> {
  return dial(docker, { path: `/images/${name}/json`, statusCodes: { 200: true, 404: 'no such image', 500: 'server error' }, signal });
}

/** `GET /images/{name}/get`: the image as a tar archive stream. */
export function exportImage(docker: Docker, name: string, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
  return dial(docker, { path: `/images/${name}/get`, statusCodes: { 200: true, 404: 'no such image', 500: 'server error' }, isStream: true, signal });
}

/** `GET /networks/{id}`. */
export function inspectNetwork(docker: Docker, id: string, signal: AbortSignal): Promise<Docker.NetworkInspectInfo> {
  return dial(docker, { path: `/networks/${id}`, statusCodes: { 200: true, 404: 'no such network', 500: 'server error' }, signal });
}

/** `GET /info`: the engine's facts (security options say whether it is rootless). */
export function engineInfo(docker: Docker, signal: AbortSignal): Promise<{ SecurityOptions?: string[] }> {
  return dial(docker, { path: '/info', statusCodes: { 200: true, 500: 'server error' }, signal });
}

/** `GET /_ping`. */
export async function pingEngine(docker: Docker, signal: AbortSignal): Promise<void> {
  await dial<unknown>(docker, { path: '/_ping', statusCodes: { 200: true, 500: 'server error' }, signal });
}
