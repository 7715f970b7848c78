import { describe, expect, it } from 'vitest';
import { desEncryptBlock, vncAuthResponse } from './des.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');
const challenge = hex('000102030405060708090a0b0c0d0e0f');

describe('desEncryptBlock', () => {
  it.each([
    ['133457799bbcdff1', '0123456789abcdef', '85e813540f0ab405'],
    ['0e329232ea6d0d73', '8787878787878787', '0000000000000000'],
    ['0000000000000000', '0000000000000000', '8ca64de9c1b123a7'],
    ['ffffffffffffffff', 'ffffffffffffffff', '7359b2163e4edc58'],
  ])('key %s encrypts %s to %s', (key, plain, cipher) => {
    expect(desEncryptBlock(hex(key), hex(plain)).toString('hex')).toBe(cipher);
  });

  it('rejects blocks of the wrong size', () => {
    expect(() => desEncryptBlock(hex('00'), hex('0000000000000000'))).toThrow(RangeError);
  });
});

describe('vncAuthResponse', () => {
  // Expected values computed independently with `openssl enc -des-ecb -provider legacy` over
  // the bit-reversed key.
  it.each([
    ['password', 'b866924125c8eebb9debc1db61c538e2'],
    ['secret', 'ee22539f33a5983ec12f9c2edbc995dd'],
  ])('answers the challenge for password %s', (password, response) => {
    expect(vncAuthResponse(challenge, password).toString('hex')).toBe(response);
  });

  it('uses only the first 8 bytes of a longer password', () => {
    expect(vncAuthResponse(challenge, 'password-and-more')).toEqual(vncAuthResponse(challenge, 'password'));
  });
});
