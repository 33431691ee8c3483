import { hkdf, hmac, hmacHex, safeEqual, sha256, signMessage, verifyMessage } from '@prod/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('safeEqual', () => {
  it('compares any lengths without throwing', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual(new Uint8Array([1, 2]), 'x')).toBe(false);
    expect(safeEqual(undefined, undefined)).toBe(false);
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(safeEqual(a, b)).toBe(a === b);
      }),
    );
  });
});

describe('HMAC signing', () => {
  it('signs and verifies, with rotation, and refuses the rest', () => {
    const signature = signMessage('k'.repeat(32), 'order:42');
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verifyMessage('k'.repeat(32), 'order:42', signature).ok).toBe(true);
    expect(verifyMessage(['new'.repeat(11), 'k'.repeat(32)], 'order:42', signature).ok).toBe(true);
    for (const result of [
      verifyMessage('k'.repeat(32), 'order:43', signature),
      verifyMessage('j'.repeat(32), 'order:42', signature),
      verifyMessage('k'.repeat(32), 'order:42', `${signature}x`),
      verifyMessage('k'.repeat(32), 'order:42', 42 as unknown as string),
    ]) {
      expect(!result.ok && result.error.code).toBe('CRYPTO_SIGNATURE_INVALID');
    }
    expect(hmac('key', 'The quick brown fox jumps over the lazy dog').toString('hex')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    expect(sha256('abc').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('hmacHex', () => {
  it('is the hex of hmac() for text and bytes, every hash, and the base of signMessage', () => {
    const vector = 'The quick brown fox jumps over the lazy dog';
    expect(hmacHex('key', vector)).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    const bytes = new Uint8Array([0, 255, 7, 128]);
    const inputs: [string | Uint8Array, string | Uint8Array][] = [
      ['k'.repeat(32), 'naïve café 日本 🙂'],
      [bytes, 'text'],
      ['text key', bytes],
      [bytes.subarray(1, 3), bytes.subarray(2)],
      ['', ''],
    ];
    for (const [key, message] of inputs) {
      for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
        expect(hmacHex(key, message, hash)).toBe(hmac(key, message, hash).toString('hex'));
      }
      expect(signMessage(key, message)).toBe(hmac(key, message).toString('base64url'));
    }
  });

  it('refuses a key or message that is not text or bytes, with a typed error', () => {
    for (const [key, message] of [
      [42, 'm'],
      ['k', null],
      [{ length: 3 }, 'm'],
      ['k', ['a']],
    ] as const) {
      expect(() => hmacHex(key as unknown as string, message as unknown as string)).toThrow(
        expect.objectContaining({ code: 'CRYPTO_INVALID_INPUT' }),
      );
      expect(() => signMessage(key as unknown as string, message as unknown as string)).toThrow(
        expect.objectContaining({ code: 'CRYPTO_INVALID_INPUT' }),
      );
    }
  });
});

describe('hkdf', () => {
  it('derives distinct keys per info and refuses bad input', () => {
    const a = hkdf('master secret', { info: 'a' });
    const b = hkdf('master secret', { info: 'b' });
    expect(a.ok && b.ok && !a.value.equals(b.value)).toBe(true);
    expect(hkdf('m', { length: 64, hash: 'sha512' }).ok).toBe(true);
    for (const result of [
      hkdf('m', { length: 0 }),
      hkdf('m', { length: 255 * 32 + 1 }),
      hkdf('m', { info: 'i'.repeat(1025) }),
      hkdf(5 as unknown as string),
      hkdf('m', { hash: 'md5' as 'sha256' }),
    ]) {
      expect(!result.ok && result.error.code).toBe('CRYPTO_INVALID_INPUT');
    }
  });
});
