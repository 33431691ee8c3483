import { createKeyring, fieldEncryption, generateKey } from '@prod/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

interface User {
  id: string;
  email: string;
  age?: number;
  profile: { bio: string } | null;
}

const keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
const users = fieldEncryption<
  User,
  { email: { index: 'emailIndex'; normalize: (v: string) => string }; age: true; profile: true }
>({
  keyring,
  indexKey: 'an-index-secret-that-is-at-least-32-bytes-long',
  fields: {
    email: { index: 'emailIndex', normalize: (v) => v.trim().toLowerCase() },
    age: true,
    profile: true,
  },
  context: (user) => user.id,
});

describe('field-level encryption', () => {
  it('round-trips records; values are JSON, nullish fields stay as they are', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.emailAddress(),
        fc.option(fc.integer(), { nil: undefined }),
        fc.option(fc.record({ bio: fc.string() }), { nil: null }),
        (id, email, age, profile) => {
          const user: User = { id, email, profile, ...(age === undefined ? {} : { age }) };
          const stored = users.encrypt(user);
          if (!stored.ok) throw stored.error;
          expect(stored.value.id).toBe(id);
          expect(stored.value.email).not.toContain('@');
          expect(stored.value.emailIndex).toBe(users.index('email', email));
          if (profile === null) expect(stored.value.profile).toBeNull();
          const back = users.decrypt(stored.value);
          expect(back).toEqual({ ok: true, value: user });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the blind index finds equal values after normalization, and differs per field and key', () => {
    const a = users.encrypt({ id: '1', email: ' Ada@Example.com ', profile: null });
    const b = users.encrypt({ id: '2', email: 'ada@example.com', profile: null });
    if (!a.ok || !b.ok) throw new Error('encrypt failed');
    expect(a.value.emailIndex).toBe(b.value.emailIndex);
    expect(a.value.email).not.toBe(b.value.email); // the ciphertexts are randomized
    expect(users.index('email', 'bob@example.com')).not.toBe(a.value.emailIndex);
    const otherKey = fieldEncryption<User, { email: { index: 'emailIndex' } }>({
      keyring,
      indexKey: 'another-index-secret-that-is-at-least-32-bytes',
      fields: { email: { index: 'emailIndex' } },
    });
    expect(otherKey.index('email', 'ada@example.com')).not.toBe(a.value.emailIndex);
    expect(a.value.emailIndex).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('a ciphertext copied to another record or field does not decrypt', () => {
    const a = users.encrypt({ id: '1', email: 'a@x.io', age: 30, profile: null });
    const b = users.encrypt({ id: '2', email: 'b@x.io', age: 40, profile: null });
    if (!a.ok || !b.ok) throw new Error('encrypt failed');
    const moved = users.decrypt({ ...b.value, email: a.value.email });
    expect(!moved.ok && moved.error.code).toBe('CRYPTO_DECRYPT_FAILED');
    const swapped = users.decrypt({ ...a.value, age: a.value.email });
    expect(!swapped.ok && swapped.error.code).toBe('CRYPTO_DECRYPT_FAILED');
    const garbage = users.decrypt({ ...a.value, email: 42 as unknown as string });
    expect(garbage.ok).toBe(false);
  });

  it('checks its options', () => {
    expect(() => fieldEncryption({ keyring, fields: { email: { index: 'i' } } })).toThrow(
      /indexKey/,
    );
    expect(() =>
      fieldEncryption({ keyring, indexKey: 'short', fields: { email: { index: 'i' } } }),
    ).toThrow(/indexKey/);
    expect(() => fieldEncryption({ keyring, fields: {} })).toThrow(/fields/);
    expect(() => fieldEncryption({ keyring: {} as typeof keyring, fields: { a: true } })).toThrow(
      /keyring/,
    );
  });
});
