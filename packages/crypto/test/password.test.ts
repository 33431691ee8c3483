import {
  argon2Available,
  hashPassword,
  needsRehash,
  passwordHasher,
  verifyPassword,
} from '@prod/crypto';
import { describe, expect, it } from 'vitest';

// Cheap parameters for most tests; one test runs the OWASP defaults.
const fast = passwordHasher({ scrypt: { ln: 14 } });

describe('password hashing', () => {
  it('hashes with scrypt N=2^17, r=8, p=1 by default (maxmem raised) and verifies', async () => {
    const hashed = await hashPassword('correct horse battery staple');
    if (!hashed.ok) throw hashed.error;
    expect(hashed.value).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword(hashed.value, 'correct horse battery staple')).toEqual({
      ok: true,
      value: true,
    });
    expect(await verifyPassword(hashed.value, 'correct horse battery stapler')).toEqual({
      ok: true,
      value: false,
    });
    expect(needsRehash(hashed.value)).toBe(false);
  }, 20_000);

  it('salts every hash, normalizes to NFC, bounds the length', async () => {
    const a = await fast.hash('pässword');
    const b = await fast.hash('pässword');
    if (!a.ok || !b.ok) throw new Error('hash failed');
    expect(a.value).not.toBe(b.value);
    expect(await fast.verify(a.value, 'pa\u0308ssword')).toEqual({ ok: true, value: true });
    const long = await fast.hash('x'.repeat(1025));
    expect(!long.ok && long.error.code).toBe('CRYPTO_INVALID_INPUT');
    expect(await fast.verify(a.value, 'x'.repeat(5000))).toEqual({ ok: true, value: false });
    const empty = await fast.hash('');
    expect(!empty.ok && empty.error.code).toBe('CRYPTO_INVALID_INPUT');
  });

  it('needsRehash() when the policy changed; old hashes still verify', async () => {
    const old = await fast.hash('secret');
    if (!old.ok) throw old.error;
    const stronger = passwordHasher({ scrypt: { ln: 15 } });
    expect(fast.needsRehash(old.value)).toBe(false);
    expect(stronger.needsRehash(old.value)).toBe(true);
    expect(await stronger.verify(old.value, 'secret')).toEqual({ ok: true, value: true });
    expect(stronger.needsRehash('not a hash')).toBe(true);
  });

  it('argon2id through @node-rs/argon2 (Node 20) or node:crypto (Node 24.7+)', async () => {
    expect(await argon2Available()).toBe(true);
    const argon = passwordHasher({ algorithm: 'argon2id' });
    const hashed = await argon.hash('hunter2!');
    if (!hashed.ok) throw hashed.error;
    expect(hashed.value).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
    expect(await argon.verify(hashed.value, 'hunter2!')).toEqual({ ok: true, value: true });
    expect(await verifyPassword(hashed.value, 'hunter3!')).toEqual({ ok: true, value: false });
    expect(argon.needsRehash(hashed.value)).toBe(false);
    expect(needsRehash(hashed.value)).toBe(true); // the default policy is scrypt
    const scryptHash = await fast.hash('hunter2!');
    expect(scryptHash.ok && argon.needsRehash(scryptHash.value)).toBe(true);
  });

  it('refuses unreadable or out-of-bounds hashes with CRYPTO_HASH_INVALID, before any work', async () => {
    const bad = [
      '',
      'plain',
      '$scrypt$ln=17,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', // N = 2^40
      '$scrypt$ln=17,r=800,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$scrypt$ln=17,r=8,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA',
      `$scrypt$ln=17,r=8,p=1$${'A'.repeat(600)}$aGFzaA`,
    ];
    for (const phc of bad) {
      const started = performance.now();
      const result = await verifyPassword(phc, 'x');
      expect([phc.slice(0, 40), !result.ok && result.error.code]).toEqual([
        phc.slice(0, 40),
        'CRYPTO_HASH_INVALID',
      ]);
      expect(performance.now() - started).toBeLessThan(1000); // no scrypt ran (a generous bound, not a benchmark)
    }
    expect((await verifyPassword(42 as unknown as string, 'x')).ok).toBe(false);
  });

  it('checks its options', () => {
    expect(() => passwordHasher({ scrypt: { ln: 10 } })).toThrow(/scrypt.ln/);
    expect(() => passwordHasher({ argon2: { m: 1024 } })).toThrow(/argon2.m/);
    expect(() => passwordHasher({ algorithm: 'bcrypt' as 'scrypt' })).toThrow(/algorithm/);
  });
});
