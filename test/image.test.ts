import { chmodSync, chownSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepPrinter } from '../src/output/step-printer.js';
import { formatDuration } from '../src/output/format.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { writeVncPassword } from '../src/workstation/docker/vnc-password-file.js';
import { NexoraError } from '../src/errors.js';
import { buildImage, loadImageDefinition, type BuildImageResult } from '../src/workstation/image/index.js';
import { ContainerTracker, execIn, memoryMiB, publishedPort, rfbHello, waitForReady, type WorkstationContainer } from './fixtures/image-containers.js';

const docker: Docker = createDockerClient();
const tracker = new ContainerTracker(docker);
const workspaces: string[] = [];
let build: BuildImageResult;

/** The CLI from source (tsx), so the suite does not depend on a fresh dist/. */
function nexora(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function workspace(owner: { uid: number; gid: number }): string {
  const path = mkdtempSync(join(tmpdir(), 'nexora-image-test-'));
  workspaces.push(path);
  try {
    chownSync(path, owner.uid, owner.gid);
  } catch {
    // Not root: let any uid write instead.
    chmodSync(path, 0o777);
  }
  return path;
}

beforeAll(async () => {
  // Builds the image when its definition changed (3-5 minutes here, more when the machine
  // is busy), else finds it current.
  build = await buildImage({ docker, printer: new StepPrinter(process.stderr) });
  console.log(`image ${build.tag}: ${build.built ? `built in ${formatDuration(build.durationMs)}` : 'current'}, ${(build.image.sizeBytes / 1024 / 1024).toFixed(0)} MiB`);
}, 1_800_000);

afterAll(async () => {
  await tracker.removeAll();
  for (const path of workspaces) rmSync(path, { recursive: true, force: true });
});

describe('nexora image build', () => {
  it('is a no-op when the image of the current definition exists', async () => {
    const started = performance.now();
    const again = await buildImage({ docker });
    const elapsed = performance.now() - started;
    console.log(`no-op build: ${formatDuration(elapsed)}`);
    expect(again.built).toBe(false);
    expect(again.tag).toBe(build.tag);
    expect(again.image.id).toBe(build.image.id);
    expect(elapsed).toBeLessThan(5000);
  });

  it('--dockerfile fails clearly when the base image cannot be pulled (no registry here)', async () => {
    // Another tag, so that a machine with a registry would not replace the real image.
    const definition = { ...loadImageDefinition(), tag: 'nexora-test-image-dockerfile:probe' };
    const failure = await buildImage({ docker, dockerfile: true, definition, signal: AbortSignal.timeout(120_000) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(NexoraError.is(failure, 'image-build-failed')).toBe(true);
    expect((failure as Error).message).toContain('ubuntu:24.04, which could not be pulled');
    expect((failure as Error).message).toContain('build with `nexora image build` (no --dockerfile)');
  });

  it('labels the image with its definition', () => {
    expect(build.tag).toMatch(/^nexora-workstation:[0-9a-f]{12}$/);
    expect(build.image.definition?.slice(0, 12)).toBe(build.tag.split(':')[1]);
    expect(build.image.recipe).toBe('mmdebstrap');
  });
});

describe('a workstation as uid 1000 with a workspace', () => {
  let workstation: WorkstationContainer;
  let readyMs: number;

  beforeAll(async () => {
    // NEXORA_VNC_AUTH=none: a bare image without a password (sessions always set one).
    workstation = await tracker.start({ image: build.tag, user: '1000:1000', workspace: workspace({ uid: 1000, gid: 1000 }), env: ['NEXORA_VNC_AUTH=none'] });
    readyMs = await waitForReady(docker, workstation);
    console.log(`plain workstation READY ${formatDuration(readyMs)} after start; memory at READY ${(await memoryMiB(workstation.container)).toFixed(1)} MiB`);
  });

  it('becomes READY within seconds', () => {
    expect(readyMs).toBeLessThan(10_000);
  });

  it('greets RFB 3.8 on its published VNC port, without a password when none is set', async () => {
    const { hostIp, hostPort } = await publishedPort(workstation.container, '5900/tcp');
    expect(hostIp).toBe('127.0.0.1');
    const hello = await rfbHello(hostPort);
    expect(hello.greeting).toBe('RFB 003.008\n');
    expect(hello.securityTypes).toEqual([1]);
  });

  it('has the tmux session main in /workspace, seen by an exec as the same user', async () => {
    const result = await execIn(docker, workstation.container, ['tmux', 'display-message', '-p', '-t', 'main', '#{session_name} #{pane_current_path}']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe('main /workspace');
  });

  it('has what a developer box has: /etc/services, an en_US.UTF-8 locale, time zones', async () => {
    const result = await execIn(docker, workstation.container, ['sh', '-c', 'getent services ssh; locale -a; test -e /usr/share/zoneinfo/Europe/Paris && echo zoneinfo']);
    expect(result.stdout).toMatch(/^ssh +22\/tcp/m);
    expect(result.stdout).toMatch(/^en_US\.utf8$/m);
    expect(result.stdout).toContain('zoneinfo');
  });

  it('lets pip install into a virtual environment (bookworm refuses it outside one, PEP 668)', async () => {
    const result = await execIn(docker, workstation.container, ['sh', '-c', 'python3 -m venv /tmp/venv && /tmp/venv/bin/pip --version']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('/tmp/venv/lib/python3');
  });

  it.each(['Xvnc', 'Xvfb', 'x11vnc', 'fluxbox', 'xterm', 'vim', 'nvim', 'nano', 'emacs', 'ed', 'bash', 'zsh', 'fish', 'tmux', 'screen', 'htop', 'btop', 'git', 'gh', 'gcc', 'g++', 'make', 'cmake', 'python3', 'pip3', 'node', 'npm', 'go', 'chromium', 'chromedriver', 'convert', 'import', 'xdotool', 'scrot', 'tesseract', 'curl', 'wget', 'jq', 'rg', 'file', 'unzip', 'dig', 'ip', 'ping', 'nc'])(
    'has %s on PATH',
    async (tool) => {
      const result = await execIn(docker, workstation.container, ['sh', '-c', `command -v "$1"`, 'sh', tool]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout.trim()).toMatch(/^\//);
    },
  );

  it('has tesseract with English', async () => {
    const result = await execIn(docker, workstation.container, ['tesseract', '--list-langs']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').map((line) => line.trim())).toContain('eng');
  });

  it('idles within the memory target without Chromium', async () => {
    const mib = await memoryMiB(workstation.container);
    console.log(`idle memory without Chromium: ${mib.toFixed(1)} MiB`);
    expect(mib).toBeLessThan(120);
  });

  it('start-chromium.sh makes /json/version answer on the workstation’s loopback only, never on a published port', async () => {
    const started = performance.now();
    const result = await execIn(docker, workstation.container, ['/opt/nexora/start-chromium.sh']);
    console.log(`start-chromium.sh: ${formatDuration(performance.now() - started)}`);
    expect(result.exitCode, result.stderr).toBe(0);
    const port = /started 127\.0\.0\.1:(\d+)/.exec(result.stdout)?.[1];
    expect(port, result.stdout).toBeDefined();
    const version = JSON.parse((await devtoolsVersion(workstation.container, Number(port))).trim()) as { Browser?: string };
    expect(version.Browser).toMatch(/Chrome\//);
    // The port the fixture publishes leads nowhere: nothing on the container's interface forwards to Chromium.
    const { hostPort } = await publishedPort(workstation.container, '9222/tcp');
    await expect(fetch(`http://127.0.0.1:${hostPort}/json/version`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    const again = await execIn(docker, workstation.container, ['/opt/nexora/start-chromium.sh']);
    expect(again.stdout).toContain(`running 127.0.0.1:${port}`);
    console.log(`memory with Chromium: ${(await memoryMiB(workstation.container)).toFixed(1)} MiB`);
  });

  it('nexora image build/ls/rm: current, listed, and not removable while a container runs it', () => {
    const again = nexora('image', 'build');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${build.tag} is current`);
    const list = nexora('image', 'ls');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${build.tag}\\s+yes\\s`, 'm'));
    const remove = nexora('image', 'rm', build.tag);
    expect(remove.code).toBe(1);
    expect(remove.stderr).toContain(`is used by running container(s)`);
    expect(remove.stderr).toContain(workstation.name);
    const neither = nexora('image', 'rm');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give either image tags or --old');
  });

  it('exits promptly with 0 on SIGTERM', async () => {
    const started = performance.now();
    await workstation.container.kill({ signal: 'SIGTERM' });
    const exit = (await workstation.container.wait()) as { StatusCode: number };
    const elapsed = performance.now() - started;
    console.log(`SIGTERM to exit (Chromium running): ${formatDuration(elapsed)}`);
    expect(exit.StatusCode).toBe(0);
    // Graceful (status 0, not a SIGKILL's 137) and prompt, with room for a loaded machine.
    expect(elapsed).toBeLessThan(5000);
  });
});

describe('a hardened workstation as a uid missing from /etc/passwd', () => {
  const owner = { uid: 1234, gid: 1234 };
  let workstation: WorkstationContainer;
  let hostWorkspace: string;
  let readyMs: number;

  beforeAll(async () => {
    hostWorkspace = workspace(owner);
    workstation = await tracker.start({
      image: build.tag,
      user: `${owner.uid}:${owner.gid}`,
      workspace: hostWorkspace,
      hardened: true,
      env: ['NEXORA_CHROMIUM=1'],
    });
    // The password arrives as sessions give it: through an exec's stdin, never the environment.
    await writeVncPassword(docker, workstation.container.id, { password: 's3cret', timeoutMs: 30_000 });
    readyMs = await waitForReady(docker, workstation);
    console.log(`hardened workstation READY ${formatDuration(readyMs)} after start`);
  });

  it('becomes READY', () => {
    expect(readyMs).toBeLessThan(10_000);
  });

  it('runs read-only, without capabilities, with limits', async () => {
    const info = await workstation.container.inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    const write = await execIn(docker, workstation.container, ['touch', '/etc/nexora-probe']);
    expect(write.exitCode).not.toBe(0);
  });

  it('names the uid: id -un, HOME and git work', async () => {
    const result = await execIn(docker, workstation.container, ['bash', '-c', 'id -un; id -u; echo "$HOME"; git config --global user.name probe && git config --global user.name']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(['nexora', String(owner.uid), '/home/nexora', 'probe']);
  });

  it('writes files in /workspace owned by that uid on the host', async () => {
    const result = await execIn(docker, workstation.container, ['sh', '-c', 'echo hello > /workspace/probe.txt']);
    expect(result.exitCode, result.stderr).toBe(0);
    const stat = statSync(join(hostWorkspace, 'probe.txt'));
    expect(stat.uid).toBe(owner.uid);
    expect(stat.gid).toBe(owner.gid);
  });

  it('has the tmux session main, and screen works on the read-only root', async () => {
    const result = await execIn(docker, workstation.container, ['tmux', 'has-session', '-t', 'main']);
    expect(result.exitCode, result.stderr).toBe(0);
    // screen -dm returns before its daemon has made the socket: poll for it.
    const screen = await execIn(docker, workstation.container, [
      'bash',
      '-c',
      'screen -dmS probe sleep 30 || exit 1; for i in {1..100}; do screen -ls probe | grep -q "\\.probe" && break; sleep 0.05; done; screen -ls probe',
    ]);
    expect(screen.stdout).toContain('.probe');
  });

  it('started Chromium before READY (NEXORA_CHROMIUM=1), within the limits', async () => {
    const result = await execIn(docker, workstation.container, ['/opt/nexora/start-chromium.sh']);
    const port = /running 127\.0\.0\.1:(\d+)/.exec(result.stdout)?.[1];
    expect(port, result.stdout).toBeDefined();
    const version = JSON.parse((await devtoolsVersion(workstation.container, Number(port))).trim()) as { Browser?: string };
    expect(version.Browser).toMatch(/Chrome\//);
    console.log(`hardened memory with Chromium: ${(await memoryMiB(workstation.container)).toFixed(1)} MiB`);
  });

  it('asks for the VNC password and keeps it out of the terminal', async () => {
    const { hostPort } = await publishedPort(workstation.container, '5900/tcp');
    const hello = await rfbHello(hostPort);
    expect(hello.greeting).toBe('RFB 003.008\n');
    expect(hello.securityTypes).toEqual([2]);
    const environment = await execIn(docker, workstation.container, ['tmux', 'show-environment', '-g']);
    expect(environment.exitCode).toBe(0);
    expect(environment.stdout).not.toContain('s3cret');
    expect(JSON.stringify((await workstation.container.inspect()).Config.Env)).not.toContain('s3cret');
    const file = await execIn(docker, workstation.container, ['stat', '-c', '%a %u', '/run/nexora/display/vncpasswd']);
    expect(file.stdout.trim()).toBe('600 64990');
  });

  it('exits promptly with 0 on SIGTERM', async () => {
    const started = performance.now();
    await workstation.container.kill({ signal: 'SIGTERM' });
    const exit = (await workstation.container.wait()) as { StatusCode: number };
    const elapsed = performance.now() - started;
    console.log(`SIGTERM to exit (hardened): ${formatDuration(elapsed)}`);
    expect(exit.StatusCode).toBe(0);
    // Graceful (status 0, not a SIGKILL's 137) and prompt, with room for a loaded machine.
    expect(elapsed).toBeLessThan(5000);
  });
});

/** Chromium's /json/version, asked from inside the workstation (it listens on its loopback only). */
async function devtoolsVersion(container: Docker.Container, port: number): Promise<string> {
  const script = `import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${port}/json/version', timeout=10).read().decode())`;
  const result = await execIn(docker, container, ['python3', '-c', script]);
  if (result.exitCode !== 0) throw new Error(`/json/version did not answer: ${result.stderr}`);
  return result.stdout;
}
