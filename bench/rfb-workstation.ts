/**
 * A bare workstation container for the RFB integration test and benchmark: the image's
 * contract only (entrypoint, NEXORA_VNC_PORT, NEXORA_DISPLAY_SERVER, the password file written
 * through an exec's stdin, READY in /run/nexora/status), started through the Engine API with
 * VNC published on 127.0.0.1 and the sessions' hardening.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { writeVncPassword } from '../src/workstation/docker/vnc-password-file.js';
import { imageRepository, workstationImageTag } from '../src/workstation/image/index.js';
import { freePort } from '../test/fixtures/free-port.js';

export interface RfbWorkstation {
  docker: Docker;
  containerId: string;
  vncPort: number;
  vncPassword: string;
  /** From the Engine API's start to READY in the status file (password delivery included). */
  startToReadyMs: number;
  /** Runs a command in the container and returns its stdout. */
  exec(command: string[]): Promise<string>;
  /** Removes the container (idempotent). */
  dispose(): Promise<void>;
}


/** The current definition's image if built, else the newest nexora-workstation image, else undefined. */
export async function findWorkstationImage(docker: Docker): Promise<string | undefined> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [`${imageRepository}`] }) });
  const tags = images.sort((a, b) => b.Created - a.Created).flatMap((image) => image.RepoTags ?? []);
  const current = workstationImageTag();
  return tags.includes(current) ? current : tags[0];
}

export async function startRfbWorkstation(options: { image: string; namePrefix: string; displayServer?: 'xvnc' | 'xvfb' }): Promise<RfbWorkstation> {
  const docker = createDockerClient();
  const vncPort = await freePort();
  const vncPassword = randomBytes(6).toString('base64url').slice(0, 8);
  const container = await docker.createContainer({
    name: `${options.namePrefix}-${randomBytes(4).toString('hex')}`,
    Image: options.image,
    User: '1000:1000',
    Env: ['NEXORA_VNC_PORT=5900', `NEXORA_DISPLAY_SERVER=${options.displayServer ?? 'xvnc'}`, 'NEXORA_CHROMIUM=0', 'NEXORA_GEOMETRY=1280x800', 'NEXORA_START_TIMEOUT=110'],
    Labels: { 'dev.nexora.test': '1' },
    ExposedPorts: { '5900/tcp': {} },
    HostConfig: {
      Init: true,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Memory: 1024 * 1024 * 1024,
      NanoCpus: 1_000_000_000,
      PidsLimit: 512,
      Tmpfs: {
        '/tmp': 'rw,nosuid,nodev,mode=1777,size=256m',
        '/run/nexora': 'rw,nosuid,nodev,noexec,mode=1777,size=4m',
        '/home/nexora': 'rw,nosuid,nodev,mode=1777,size=256m',
        '/workspace': 'rw,nosuid,nodev,mode=1777,size=16m',
      },
      PortBindings: { '5900/tcp': [{ HostIp: '127.0.0.1', HostPort: String(vncPort) }] },
    },
  });
  const exec = async (command: string[]): Promise<string> => {
    const execution = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true, User: '1000:1000', Env: ['DISPLAY=:1'] });
    const stream = await execution.start({});
    const stdout: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => stdout.push(chunk));
    docker.modem.demuxStream(stream, out, new PassThrough().resume());
    await new Promise((resolve) => stream.on('end', resolve));
    return Buffer.concat(stdout).toString('utf8');
  };
  let disposed = false;
  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await container.remove({ force: true }).catch(() => undefined);
  };
  try {
    const started = performance.now();
    await container.start();
    await writeVncPassword(docker, container.id, { password: vncPassword, timeoutMs: 30_000 });
    // As long as the start script itself may wait: a loaded machine starts slowly, it does not fail.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = await exec(['cat', '/run/nexora/status']).catch(() => '');
      if (status.startsWith('READY')) break;
      if (status.startsWith('FAILED') || Date.now() > deadline) throw new Error(`the workstation did not become ready (status: ${status.trim() || 'none'})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { docker, containerId: container.id, vncPort, vncPassword, startToReadyMs: performance.now() - started, exec, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
