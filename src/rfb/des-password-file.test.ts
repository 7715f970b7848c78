import { describe, expect, it } from 'vitest';
import { vncPasswordFile } from './des.js';

describe('vncPasswordFile', () => {
  it('matches the bytes vncpasswd and x11vnc -storepasswd write', () => {
    // `printf 'password' | vncpasswd -f | xxd -p` (TigerVNC) and x11vnc -storepasswd agree on this.
    expect(vncPasswordFile('password').toString('hex')).toBe('dbd83cfd727a1458');
  });

  it('uses only the first 8 bytes', () => {
    expect(vncPasswordFile('password-and-more')).toEqual(vncPasswordFile('password'));
  });
});
