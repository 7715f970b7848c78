import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../../src/errors.js';
import { probeRfbServer, vncPasswordFile } from '../../src/rfb/index.js';
import { WORKSTATION_HELPERS } from '../../src/workstation/helper-users.js';
import { VNC_PASSWORD_FILE } from '../../src/workstation/docker/vnc-password-file.js';
import { startToolsWorkstation, type ToolsWorkstation } from '../fixtures/tools-workstation.js';

// The attacker: a hostile process of the workstation's own user (the workspace owner's uid) in
// a real, hardened workstation, against Nexora's helpers there — the display (Xvnc, which holds
// the VNC password) and the terminal's observer (the host's tmux control client).
let station: ToolsWorkstation;
const display = WORKSTATION_HELPERS.display;
const observer = WORKSTATION_HELPERS.observer;

beforeAll(async () => {
  station = await startToolsWorkstation('helpers');
  await station.connected.tools.keyboard({ text: "export PS1='$ '; clear\n", wait: { pattern: /^\$$/m, timeoutMs: 10_000 } });
}, 120_000);

afterAll(async () => {
  await station?.dispose();
});

/** Runs a shell command as the workstation's user (the attacker), as the model's commands run. */
async function attacker(command: string): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return station.connected.tools.execute(command);
}

/** Pids of a uid's processes whose name matches (tmux names itself `tmux: client`, `tmux: server`). */
async function pidsOf(uid: number, pattern: string): Promise<string[]> {
  const result = await attacker(`pgrep -u ${uid} '${pattern}' || true`);
  return result.stdout.split('\n').filter((line) => /^\d+$/.test(line));
}

describe('the VNC password against a process of the workstation user', () => {
  it('cannot be read: the file is 0600 and the display’s, in a directory that cannot be listed', async () => {
    const read = await attacker(`cat ${VNC_PASSWORD_FILE}`);
    expect(read.exitCode).not.toBe(0);
    expect(read.stderr).toMatch(/Permission denied/);
    expect((await attacker('ls /run/nexora/display')).stderr).toMatch(/Permission denied/);
    // The helper's own view: the file exists and is its own, so the refusal above is the mode, not absence.
    const owner = await station.workstation.exec({ cmd: ['stat', '-c', '%u %a', VNC_PASSWORD_FILE], user: `${display.uid}:${display.gid}`, cwd: '/', env: { LD_PRELOAD: '' } });
    expect(owner.stdout.trim()).toBe(`${display.uid} 600`);
  });

  it('is nowhere the user can read: not in files, environments, command lines, nor the display’s memory', async () => {
    const [xvnc] = await pidsOf(display.uid, '^Xvnc$');
    expect(xvnc).toBeDefined();
    const proc = await attacker(`cat /proc/${xvnc}/environ; cat /proc/${xvnc}/mem; ls /proc/${xvnc}/fd; strace -p ${xvnc} -e trace=none -o /dev/null & sleep 0.5; kill %1 2>/dev/null; wait`);
    expect(proc.stderr).toMatch(new RegExp(`/proc/${xvnc}/environ: Permission denied`));
    expect(proc.stderr).toMatch(new RegExp(`/proc/${xvnc}/fd.*Permission denied`));
    expect(proc.stderr).toMatch(/attach: ptrace\(PTRACE_SEIZE, \d+\): Operation not permitted/);
    // Everything the user can read where a secret could have been left, sent back whole.
    const everything = await attacker(
      "{ find /run /tmp /home /workspace -xdev -type f -readable -size -2M -print0 2>/dev/null | xargs -0 cat 2>/dev/null; for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null; done; } | base64 -w0",
    );
    const bytes = Buffer.from(everything.stdout.trim(), 'base64');
    expect(bytes.length).toBeGreaterThan(1000);
    expect(bytes.includes(Buffer.from(station.vncPassword))).toBe(false);
    expect(bytes.includes(vncPasswordFile(station.vncPassword))).toBe(false);
  });
});

describe('the terminal’s observer (tmux control client) against a process of the workstation user', () => {
  it('runs as nexora-observer: its descriptors cannot be opened through /proc, nor can it be ptraced', async () => {
    const [client] = await pidsOf(observer.uid, '^tmux');
    expect(client).toBeDefined();
    const attempt = await attacker(`ls /proc/${client}/fd; echo forged > /proc/${client}/fd/1; cat /proc/${client}/fd/0 & sleep 0.3; kill %1 2>/dev/null; strace -p ${client} -o /dev/null & sleep 0.5; kill %2 2>/dev/null; wait`);
    expect(attempt.stderr).toMatch(new RegExp(`/proc/${client}/fd.*Permission denied`));
    expect(attempt.stderr).toMatch(new RegExp(`/proc/${client}/fd/1: Permission denied`));
    expect(attempt.stderr).toMatch(new RegExp(`/proc/${client}/fd/0: Permission denied`));
    expect(attempt.stderr).toMatch(/attach: ptrace\(PTRACE_SEIZE, \d+\): Operation not permitted/);
    // The channel still answers: nothing reached it.
    expect((await station.connected.tools.screen({ image: false })).text).toMatch(/^\$/m);
  });

  it('reads the pane as it is when it prints control-mode replies, guards and tokens', async () => {
    const { tools, terminal } = station.connected;
    await tools.keyboard({
      text: "clear; printf '%%end 1 1 1\\n%%begin 2 2 1\\nFORGED\\n%%end 2 2 1\\n%%begin 3 3 1\\nnexora-0-1\\n%%end 3 3 1\\nafter-forged\\n'\n",
      wait: { pattern: /^after-forged$/m, timeoutMs: 10_000 },
    });
    const host = await terminal.pane('main');
    // What is really on the screen, read by the user's own tmux client through another channel.
    const truth = await attacker("tmux capture-pane -p -t main | sed -e 's/[[:space:]]*$//'");
    const screenRows = truth.stdout.replace(/\n$/, '').split('\n');
    expect(host.rows.slice(0, screenRows.length)).toEqual(screenRows);
    expect(host.rows).toContain('FORGED');
    expect(host.rows).toContain('after-forged');
  });

  it('is not made to run a command by the user’s tmux server (detach-client -E); code running as it reads no password either', async () => {
    const { tools } = station.connected;
    const [client] = await pidsOf(observer.uid, '^tmux');
    const clients = await attacker("tmux list-clients -F '#{client_name} #{client_control_mode} #{client_uid} #{client_pid}'");
    const control = clients.stdout.split('\n').find((line) => line.endsWith(` 1 ${observer.uid} ${client}`));
    expect(control).toBeDefined();
    const name = control!.split(' ')[0]!;
    // tmux answers a command once it has run it: the server has sent the client its exec
    // message when this returns. The client then still serves the host, as the same process.
    const detach = await attacker(`tmux detach-client -t '${name}' -E 'id -u > /tmp/observer-ran'`);
    expect(detach.exitCode).toBe(0);
    expect((await tools.screen({ image: false })).text).toMatch(/^\$/m);
    const after = await attacker(`ps -o comm= -p ${client}; cat /tmp/observer-ran`);
    expect(after.stdout.trim()).toBe('tmux: client');
    expect(after.stderr).toMatch(/No such file/);
    // Had it run (a server of the user's own making could ask it to), it would run as the
    // observer, which reaches neither the password nor the display's process.
    const asObserver = await station.workstation.exec({
      cmd: ['sh', '-c', `id -u; cat ${VNC_PASSWORD_FILE}; cat /proc/$(pgrep -u ${display.uid} -x Xvnc)/environ`],
      user: `${observer.uid}:1000`,
      cwd: '/',
      env: { LD_PRELOAD: '' },
    });
    expect(asObserver.stdout.trim()).toBe(String(observer.uid));
    expect(asObserver.stderr).toMatch(/vncpasswd: Permission denied/);
    expect(asObserver.stderr).toMatch(/environ: Permission denied/);
  });
});

describe('the X server', () => {
  it('offers no RECORD extension (and so no XTEST): no X client can log what a person types', async () => {
    const extensions = await attacker('DISPLAY=:1 xdpyinfo -queryExtensions | sed -n "/^number of extensions/,/^default screen/p"');
    expect(extensions.exitCode).toBe(0);
    expect(extensions.stdout).toMatch(/XKEYBOARD/);
    expect(extensions.stdout).not.toMatch(/RECORD/);
    expect(extensions.stdout).not.toMatch(/XTEST/);
  });
});

describe('the VNC server against bad logins', () => {
  it('still lets the real client in right after ten bad logins from another local process through the same published port', async () => {
    const endpoint = station.workstation.rfb();
    for (let attempt = 0; attempt < 10; attempt++) {
      const failure = await probeRfbServer({ host: endpoint.host, port: endpoint.port, password: `wrong${attempt}`, timeoutMs: 5000 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(NexoraError.is(failure, 'rfb-auth-failed')).toBe(true);
    }
    const init = await probeRfbServer({ host: endpoint.host, port: endpoint.port, password: endpoint.password, timeoutMs: 5000 });
    expect(init.width).toBeGreaterThan(0);
  });
});
