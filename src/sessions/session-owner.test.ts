import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isOwnerAlive, processInstance, thisProcessOwner } from './session-owner.js';

describe('session owners', () => {
  it('knows this process is alive, and that a killed process or a reused pid is not', async () => {
    const me = thisProcessOwner();
    expect(isOwnerAlive(me)).toBe(true);
    expect(isOwnerAlive({ ...me, instance: `${me.pid}-0` })).toBe(false);
    expect(isOwnerAlive({ ...me, host: 'some-other-host' })).toBe('unknown');

    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const owner = { host: me.host, pid, instance: processInstance(pid) ?? 'none' };
    expect(isOwnerAlive(owner)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isOwnerAlive(owner)).toBe(false);
  });
});
