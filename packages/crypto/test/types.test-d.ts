import type { Buffer } from 'node:buffer';
import type { ProdError, Result } from '@prod/core';
import {
  createKeyring,
  fieldEncryption,
  generateKey,
  hashPassword,
  tokenFormat,
} from '@prod/crypto';
import { describe, expectTypeOf, it } from 'vitest';

describe('types', () => {
  it('keyring results', () => {
    const keyring = createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });
    expectTypeOf(keyring.encrypt('x')).toEqualTypeOf<Result<Buffer, ProdError>>();
    expectTypeOf(keyring.decryptString('x')).toEqualTypeOf<Result<string, ProdError>>();
    expectTypeOf(hashPassword('x')).resolves.toEqualTypeOf<Result<string, ProdError>>();
    expectTypeOf(tokenFormat({ prefix: 'ab' }).generate().token).toBeString();
  });

  it('encrypted records: fields become strings, indexes are added', () => {
    interface User {
      id: string;
      email: string;
      age?: number;
    }
    const users = fieldEncryption<User, { email: { index: 'emailIndex' }; age: true }>({
      keyring: createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] }),
      indexKey: 'x'.repeat(32),
      fields: { email: { index: 'emailIndex' }, age: true },
    });
    const stored = users.encrypt({ id: '1', email: 'a@b.c' });
    if (stored.ok) {
      expectTypeOf(stored.value.email).toEqualTypeOf<string>();
      expectTypeOf(stored.value.age).toEqualTypeOf<string | undefined>();
      expectTypeOf(stored.value.emailIndex).toEqualTypeOf<string | null>();
      expectTypeOf(stored.value.id).toEqualTypeOf<string>();
      const back = users.decrypt(stored.value);
      if (back.ok) expectTypeOf(back.value).toEqualTypeOf<User>();
    }
    // @ts-expect-error not a field of the record
    fieldEncryption<User, { nope: true }>({
      keyring: createKeyring({ keys: [] }),
      fields: { nope: true },
    });
  });
});
