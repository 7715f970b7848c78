import { describe, expect, it } from 'vitest';
import { egressRuleCommands, firewallAccess } from './host-firewall.js';

describe('host firewall', () => {
  it('says why it cannot guard and what to do: remote engine, rootless engine', () => {
    const remote = firewallAccess({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2376' } });
    expect(remote).toMatchObject({ ok: false, reason: expect.stringContaining('on another host (tcp://10.0.0.5:2376)') as unknown });
    const rootless = firewallAccess({ env: {}, rootless: true });
    expect(rootless).toMatchObject({ ok: false, reason: expect.stringContaining('rootless') as unknown, fix: expect.stringContaining('--disable-host-loopback') as unknown });
    expect(firewallAccess({ env: { DOCKER_HOST: 'unix:///run/docker.sock' } }).ok).toBe(process.getuid?.() === 0);
  });

  it('prints the rules as root would add them, in the variant asked for', () => {
    expect(egressRuleCommands('nxbr-1234abcd', 'iptables-legacy')).toEqual([
      'iptables-legacy -I INPUT -i nxbr-1234abcd -m comment --comment nexora-egress:nxbr-1234abcd:host -m conntrack --ctstate NEW,INVALID -j DROP',
      'iptables-legacy -I DOCKER-USER -i nxbr-1234abcd -m comment --comment nexora-egress:nxbr-1234abcd:linklocal -d 169.254.0.0/16 -j DROP',
      'ip6tables-legacy -I INPUT -i nxbr-1234abcd -m comment --comment nexora-egress:nxbr-1234abcd:host -m conntrack --ctstate NEW,INVALID -j DROP',
    ]);
  });
});
