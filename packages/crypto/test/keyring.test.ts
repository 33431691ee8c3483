import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import {
  type BudgetEvent,
  CryptoErrors,
  createKeyring,
  generateKey,
  type KeySpec,
  keyringFromJson,
} from '@prod/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const primary = (spec: KeySpec = generateKey()): KeySpec => ({ ...spec, status: 'primary' });

describe('keyring encrypt/decrypt', () => {
  it('round-trips text and bytes with and without associated data', () => {
    const keyring = createKeyring({ keys: [primary()] });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.option(fc.string(), { nil: undefined }),
        (plaintext, aad) => {
          const sealed = keyring.encrypt(plaintext, aad);
          expect(sealed.ok).toBe(true);
          if (!sealed.ok) return;
          expect(sealed.value.length).toBe(plaintext.length + 33);
          const opened = keyring.decrypt(sealed.value, aad);
          expect(opened.ok && Buffer.compare(opened.value, Buffer.from(plaintext))).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
    const text = keyring.encryptString('héllo wörld', 'note:1');
    expect(text.ok && /^[A-Za-z0-9_-]+$/.test(text.value)).toBe(true);
    if (text.ok)
      expect(keyring.decryptString(text.value, 'note:1')).toEqual({
        ok: true,
        value: 'héllo wörld',
      });
  });

  it('writes version 1 and the primary key id into the first five bytes', () => {
    const keyring = createKeyring({ keys: [{ ...primary(), id: 0x01020304 }] });
    const sealed = keyring.encrypt('x');
    expect(sealed.ok && [...sealed.value.subarray(0, 5)]).toEqual([1, 1, 2, 3, 4]);
    if (sealed.ok) {
      expect(keyring.keyIdOf(sealed.value)).toBe(0x01020304);
      expect(keyring.keyIdOf(sealed.value.toString('base64url'))).toBe(0x01020304);
    }
    expect(keyring.keyIdOf('!!')).toBeUndefined();
  });

  it('uses a fresh nonce every time', () => {
    const keyring = createKeyring({ keys: [primary()] });
    const nonces = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const sealed = keyring.encrypt('same');
      if (sealed.ok) nonces.add(sealed.value.subarray(5, 17).toString('hex'));
    }
    expect(nonces.size).toBe(500);
  });

  it('works with ChaCha20-Poly1305 keys too', () => {
    const keyring = createKeyring({ keys: [primary(generateKey('chacha20-poly1305'))] });
    const sealed = keyring.encrypt('chacha', 'ad');
    expect(sealed.ok).toBe(true);
    if (sealed.ok) expect(keyring.decrypt(sealed.value, 'ad')).toMatchObject({ ok: true });
    expect(keyring.keys()[0]?.algorithm).toBe('chacha20-poly1305');
  });
});

describe('keyring failures are CRYPTO_DECRYPT_FAILED, never a throw or a partial plaintext', () => {
  const keyring = createKeyring({ keys: [primary()] });
  const sealed = keyring.encrypt('attack at dawn', 'ctx');
  if (!sealed.ok) throw sealed.error;
  const ciphertext = sealed.value;

  const expectFailed = (result: ReturnType<typeof keyring.decrypt>): void => {
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('CRYPTO_DECRYPT_FAILED');
      expect(result.error.message).toBe('the ciphertext could not be decrypted');
      expect('value' in result).toBe(false);
    }
  };

  it('every single flipped bit, anywhere', () => {
    for (let byte = 0; byte < ciphertext.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(ciphertext);
        tampered[byte] = (tampered[byte] as number) ^ (1 << bit);
        expectFailed(keyring.decrypt(tampered, 'ctx'));
      }
    }
  });

  it('every truncation and extension', () => {
    for (let length = 0; length < ciphertext.length; length++) {
      expectFailed(keyring.decrypt(ciphertext.subarray(0, length), 'ctx'));
    }
    expectFailed(keyring.decrypt(Buffer.concat([ciphertext, Buffer.from([0])]), 'ctx'));
  });

  it('other associated data, none, or a wrong type of it', () => {
    expectFailed(keyring.decrypt(ciphertext, 'ctx2'));
    expectFailed(keyring.decrypt(ciphertext));
    expectFailed(keyring.decrypt(ciphertext, 42 as unknown as string));
  });

  it('a wrong key, an unknown key id, a ciphertext relabelled with another key id', () => {
    const other = createKeyring({ keys: [primary()] });
    expectFailed(other.decrypt(ciphertext, 'ctx'));
    const sameId = createKeyring({ keys: [{ ...primary(), id: keyring.primaryId }] });
    expectFailed(sameId.decrypt(ciphertext, 'ctx'));
    const moved = Buffer.from(ciphertext);
    moved.writeUInt32BE((keyring.primaryId + 1) >>> 0, 1);
    const both = createKeyring({
      keys: [...keyring.exportKeys(), { ...generateKey(), id: (keyring.primaryId + 1) >>> 0 }],
    });
    expectFailed(both.decrypt(moved, 'ctx'));
  });

  it('hostile values of any type', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (value, aad) => {
        const result = keyring.decrypt(value as Uint8Array, aad as string);
        expect(result.ok).toBe(false);
        const text = keyring.decryptString(value as string, aad as string);
        expect(text.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(keyring.decrypt(bytes).ok).toBe(false);
      }),
    );
  });

  it('refuses a plaintext that is not text or bytes', () => {
    const result = keyring.encrypt({} as unknown as string);
    expect(!result.ok && result.error.code).toBe('CRYPTO_INVALID_INPUT');
    expect(keyring.encryptString(Buffer.from('x') as unknown as string).ok).toBe(false);
  });
});

describe('rotation', () => {
  it('rotate() makes a new primary; old data stays readable; disabled keys do not decrypt', () => {
    const keyring = createKeyring({ keys: [primary()] });
    const firstId = keyring.primaryId;
    const old = keyring.encryptString('old');
    const rotated = keyring.rotate();
    expect(rotated.ok).toBe(true);
    if (!rotated.ok || !old.ok) return;
    expect(keyring.primaryId).toBe(rotated.value.id);
    expect(rotated.value.status).toBe('primary');
    expect(keyring.keys().map((key) => [key.id, key.status])).toEqual([
      [rotated.value.id, 'primary'],
      [firstId, 'enabled'],
    ]);
    const fresh = keyring.encryptString('new');
    if (!fresh.ok) throw fresh.error;
    expect(keyring.keyIdOf(fresh.value)).toBe(rotated.value.id);
    expect(keyring.decryptString(old.value)).toEqual({ ok: true, value: 'old' });
    expect(keyring.disable(firstId).ok).toBe(true);
    expect(keyring.decryptString(old.value).ok).toBe(false);
    expect(keyring.enable(firstId).ok).toBe(true);
    expect(keyring.decryptString(old.value)).toEqual({ ok: true, value: 'old' });
  });

  it('Tink-style rollout: add everywhere first, then promote', () => {
    const first = primary();
    const next = generateKey();
    const writer = createKeyring({ keys: [first] });
    const reader = createKeyring({ keys: [first] });
    expect(writer.add(next).ok).toBe(true);
    expect(reader.add(next).ok).toBe(true);
    expect(writer.primaryId).toBe(first.id);
    expect(writer.promote(next.id).ok).toBe(true);
    const sealed = writer.encrypt('after promotion');
    expect(sealed.ok && reader.decrypt(sealed.value).ok).toBe(true);
  });

  it('keyring operations name unknown ids and protect the primary', () => {
    const keyring = createKeyring({ keys: [primary()] });
    const unknownId = (keyring.primaryId + 1) >>> 0;
    for (const result of [
      keyring.promote(unknownId),
      keyring.disable(unknownId),
      keyring.enable(unknownId),
    ]) {
      expect(!result.ok && result.error.code).toBe('CRYPTO_KEY_NOT_FOUND');
    }
    const self = keyring.disable(keyring.primaryId);
    expect(!self.ok && self.error.code).toBe('CRYPTO_INVALID_KEY');
    const duplicate = keyring.add({ ...generateKey(), id: keyring.primaryId });
    expect(!duplicate.ok && duplicate.error.code).toBe('CRYPTO_INVALID_KEY');
    const short = keyring.add({ id: 99, key: randomBytes(16) });
    expect(!short.ok && short.error.code).toBe('CRYPTO_INVALID_KEY');
  });

  it('exportKeys() and keyringFromJson() rebuild the same keyring', () => {
    const keyring = createKeyring({ keys: [primary()] });
    keyring.rotate({ algorithm: 'chacha20-poly1305' });
    const sealed = keyring.encrypt('persisted');
    const rebuilt = keyringFromJson(JSON.stringify(keyring.exportKeys()));
    expect(rebuilt.ok).toBe(true);
    if (rebuilt.ok && sealed.ok) {
      expect(rebuilt.value.primaryId).toBe(keyring.primaryId);
      expect(rebuilt.value.decrypt(sealed.value).ok).toBe(true);
    }
    expect(keyringFromJson(JSON.stringify({ keys: keyring.exportKeys() })).ok).toBe(true);
  });

  it('keyringFromJson() reports what is wrong without the material', () => {
    const spec = primary();
    for (const json of [
      'nope',
      '{}',
      '[]',
      JSON.stringify([{ ...spec, status: 'enabled' }]),
      JSON.stringify([spec, { ...spec }]),
    ]) {
      const result = keyringFromJson(json);
      expect(!result.ok && result.error.code).toBe('CRYPTO_INVALID_KEY');
      if (!result.ok) expect(result.error.message).not.toContain(String(spec.key));
    }
  });
});

describe('message budget', () => {
  it('warns at warnAt and refuses past the budget, until a rotation', () => {
    const events: BudgetEvent[] = [];
    const keyring = createKeyring({
      keys: [primary()],
      messageBudget: 4,
      warnAt: 0.5,
      onBudget: (event) => events.push(event),
    });
    for (let i = 0; i < 4; i++) expect(keyring.encrypt('x').ok).toBe(true);
    const refused = keyring.encrypt('x');
    expect(!refused.ok && refused.error.code).toBe('CRYPTO_KEY_EXHAUSTED');
    expect(events.map((event) => [event.level, event.messages])).toEqual([
      ['warning', 2],
      ['exhausted', 4],
    ]);
    expect(keyring.keys()[0]?.messages).toBe(4);
    keyring.rotate();
    expect(keyring.encrypt('x').ok).toBe(true);
  });

  it('only warns when enforceBudget is false', () => {
    const levels: string[] = [];
    const keyring = createKeyring({
      keys: [primary()],
      messageBudget: 1,
      enforceBudget: false,
      onBudget: (event) => levels.push(event.level),
    });
    expect(keyring.encrypt('a').ok && keyring.encrypt('b').ok && keyring.encrypt('c').ok).toBe(
      true,
    );
    expect(levels).toEqual(['warning', 'exhausted']);
  });
});

describe('createKeyring options', () => {
  it('throws CRYPTO_INVALID_OPTIONS, naming the option, for unusable keys', () => {
    const spec = generateKey();
    const cases: unknown[] = [
      undefined,
      {},
      { keys: [] },
      { keys: [spec] },
      { keys: [primary(spec), primary(spec)] },
      { keys: [{ ...primary(), id: -1 }] },
      { keys: [{ ...primary(), id: 2 ** 32 }] },
      { keys: [{ ...primary(), key: 'short' }] },
      { keys: [{ ...primary(), algorithm: 'aes-128-gcm' }] },
      { keys: [primary()], messageBudget: 0 },
      { keys: [primary()], warnAt: 2 },
      { keys: [primary()], onBudget: 'no' },
    ];
    for (const options of cases) {
      let thrown: unknown;
      try {
        createKeyring(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(CryptoErrors.CRYPTO_INVALID_OPTIONS.is(thrown)).toBe(true);
    }
  });
});
