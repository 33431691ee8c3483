import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createKeyring, fromJwe, generateKey, toJwe } from '@prod/crypto';
import fc from 'fast-check';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { describe, expect, it } from 'vitest';

const decryptOptions = {
  keyManagementAlgorithms: ['dir'],
  contentEncryptionAlgorithms: ['A256GCM'],
};

describe('JWE compact, dir + A256GCM, against jose', () => {
  it('jose decrypts what we write (raw key and keyring)', async () => {
    const key = randomBytes(32);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 500 }), async (text) => {
        const jwe = toJwe(key, text, { header: { cty: 'text/plain' } });
        if (!jwe.ok) throw jwe.error;
        const { plaintext, protectedHeader } = await compactDecrypt(jwe.value, key, decryptOptions);
        expect(Buffer.from(plaintext).toString('utf8')).toBe(text);
        expect(protectedHeader).toMatchObject({ alg: 'dir', enc: 'A256GCM', cty: 'text/plain' });
      }),
      { numRuns: 50 },
    );
    const spec = { ...generateKey(), status: 'primary' as const };
    const keyring = createKeyring({ keys: [spec] });
    const jwe = toJwe(keyring, '{"sub":"42"}');
    if (!jwe.ok) throw jwe.error;
    const opened = await compactDecrypt(
      jwe.value,
      Buffer.from(spec.key as string, 'base64url'),
      decryptOptions,
    );
    expect(opened.protectedHeader.kid).toBe(String(spec.id));
  });

  it('we decrypt what jose writes, with and without kid', async () => {
    const spec = { ...generateKey(), status: 'primary' as const };
    const keyring = createKeyring({ keys: [spec] });
    const key = Buffer.from(spec.key as string, 'base64url');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1000 }), fc.boolean(), async (bytes, withKid) => {
        const jwe = await new CompactEncrypt(bytes)
          .setProtectedHeader({
            alg: 'dir',
            enc: 'A256GCM',
            ...(withKid ? { kid: String(spec.id) } : {}),
          })
          .encrypt(key);
        const viaKeyring = fromJwe(keyring, jwe);
        expect(viaKeyring.ok && viaKeyring.value.plaintext.equals(Buffer.from(bytes))).toBe(true);
        const viaKey = fromJwe(key, jwe);
        expect(viaKey.ok && viaKey.value.plaintext.equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps old JWEs readable after a rotation, picked by kid', () => {
    const keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
    const old = toJwe(keyring, 'before');
    keyring.rotate();
    const fresh = toJwe(keyring, 'after');
    if (!old.ok || !fresh.ok) throw new Error('toJwe failed');
    expect(fromJwe(keyring, old.value).ok && fromJwe(keyring, fresh.value).ok).toBe(true);
    const header = JSON.parse(
      Buffer.from(fresh.value.split('.')[0] as string, 'base64url').toString(),
    );
    expect(header.kid).toBe(String(keyring.primaryId));
  });

  it('refuses other algorithms, zip, crit, an encrypted key, tampering: CRYPTO_DECRYPT_FAILED', async () => {
    const key = randomBytes(32);
    const good = toJwe(key, 'secret');
    if (!good.ok) throw good.error;
    const [h, , iv, ct, tag] = good.value.split('.') as [string, string, string, string, string];
    const header = (fields: object): string =>
      Buffer.from(JSON.stringify(fields)).toString('base64url');
    const bad = [
      `${header({ alg: 'A256KW', enc: 'A256GCM' })}..${iv}.${ct}.${tag}`,
      `${header({ alg: 'dir', enc: 'A128GCM' })}..${iv}.${ct}.${tag}`,
      `${header({ alg: 'dir', enc: 'A256GCM', zip: 'DEF' })}..${iv}.${ct}.${tag}`,
      `${header({ alg: 'dir', enc: 'A256GCM', crit: ['exp'], exp: 1 })}..${iv}.${ct}.${tag}`,
      `${header({ enc: 'A256GCM', alg: 'dir' })}..${iv}.${ct}.${tag}`, // same fields, other bytes: AAD differs
      `${h}.AAAA.${iv}.${ct}.${tag}`,
      `${h}..${iv}.${ct}`,
      `${h}..${iv}.${ct}.${tag}.x`,
      `${h}..${iv.slice(1)}.${ct}.${tag}`,
      `${h}..${iv}.${ct}A.${tag}`,
      `${h}..${iv}.${ct}.${tag.slice(0, -2)}${tag.endsWith('AA') ? 'BA' : 'AA'}`, // never the tag itself
      `${h}..${iv}.${ct}.${tag}`.replace(h, `${h}x`),
      '',
      'a'.repeat(2 * 1024 * 1024),
    ];
    for (const jwe of bad) {
      const result = fromJwe(key, jwe);
      expect(!result.ok && result.error.code).toBe('CRYPTO_DECRYPT_FAILED');
    }
    expect(fromJwe(randomBytes(32), good.value).ok).toBe(false);
    expect(fromJwe(key, 42 as unknown as string).ok).toBe(false);
    const viaJose = await compactDecrypt(good.value, key, decryptOptions);
    expect(Buffer.from(viaJose.plaintext).toString()).toBe('secret');
  });

  it('refuses keys that cannot do A256GCM and reserved header fields', () => {
    expect(toJwe(randomBytes(16), 'x').ok).toBe(false);
    const chacha = createKeyring({
      keys: [{ ...generateKey('chacha20-poly1305'), status: 'primary' }],
    });
    const refused = toJwe(chacha, 'x');
    expect(!refused.ok && refused.error.code).toBe('CRYPTO_INVALID_KEY');
    const reserved = toJwe(randomBytes(32), 'x', { header: { alg: 'none' } });
    expect(!reserved.ok && reserved.error.code).toBe('CRYPTO_INVALID_INPUT');
  });
});
