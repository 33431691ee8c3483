import { randomToken, tokenFormat } from '@prod/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const apiKeys = tokenFormat({ prefix: 'prod_live' });

describe('tokens', () => {
  it('generates <prefix>_<32 base62><6 base62 CRC-32> with a hash and a hint', () => {
    const issued = apiKeys.generate();
    expect(issued.token).toMatch(/^prod_live_[0-9A-Za-z]{38}$/);
    expect(issued.token.length).toBe(apiKeys.length);
    expect(issued.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.hint).toBe(`prod_live_...${issued.token.slice(-4)}`);
    expect(apiKeys.parse(issued.token)).toMatchObject({
      ok: true,
      value: { prefix: 'prod_live', hash: issued.hash },
    });
    expect(apiKeys.matches(issued.token, issued.hash)).toBe(true);
    expect(apiKeys.matches(apiKeys.generate().token, issued.hash)).toBe(false);
    expect(new Set(Array.from({ length: 200 }, () => apiKeys.generate().token)).size).toBe(200);
  });

  it('rejects any single-character change by the checksum, before any lookup', () => {
    const { token } = apiKeys.generate();
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    for (let at = 'prod_live_'.length; at < token.length; at++) {
      const swapped = alphabet[(alphabet.indexOf(token[at] as string) + 1) % 62] as string;
      const typo = token.slice(0, at) + swapped + token.slice(at + 1);
      const result = apiKeys.parse(typo);
      expect(!result.ok && result.error.code).toBe('CRYPTO_TOKEN_INVALID');
    }
  });

  it('rejects other prefixes, lengths, alphabets and types', () => {
    const { token } = apiKeys.generate();
    for (const bad of [
      token.replace('prod_live', 'prod_test'),
      token.slice(1),
      `${token}0`,
      token.replace(/.$/, '-'),
      42,
      null,
      '',
    ]) {
      expect(apiKeys.parse(bad).ok).toBe(false);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        expect(apiKeys.parse(`prod_live_${text}`).ok).toBe(false);
      }),
    );
  });

  it('has a pattern for secret scanning', () => {
    const { token } = apiKeys.generate();
    expect(`config: KEY=${token}\n`.match(apiKeys.pattern)).toEqual([token]);
  });

  it('checks its options; randomToken is URL-safe', () => {
    expect(() => tokenFormat({ prefix: 'Bad-Prefix' })).toThrow(/prefix/);
    expect(() => tokenFormat({ prefix: 'ok', randomLength: 10 })).toThrow(/randomLength/);
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => randomToken(4)).toThrow();
  });
});
