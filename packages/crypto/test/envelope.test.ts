import { Buffer } from 'node:buffer';
import { CoreErrors, err, ok } from '@prod/core';
import {
  createEnvelope,
  createKeyring,
  generateKey,
  type KeyProvider,
  localKeyProvider,
} from '@prod/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const master = () => createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });

describe('envelope encryption', () => {
  it('round-trips with a fresh data key per message, bound to its context', async () => {
    const envelope = createEnvelope({ provider: localKeyProvider(master()) });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
        async (data, context) => {
          const sealed = await envelope.encrypt(data, { context });
          if (!sealed.ok) throw sealed.error;
          const opened = await envelope.decrypt(sealed.value, { context });
          expect(opened.ok && opened.value.equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
    const a = await envelope.encrypt('same', { context: { tenant: 't' } });
    const b = await envelope.encrypt('same', { context: { tenant: 't' } });
    expect(a.ok && b.ok && !a.value.equals(b.value)).toBe(true);
  });

  it('refuses another context, a tampered byte anywhere, a truncation', async () => {
    const envelope = createEnvelope({
      provider: localKeyProvider(master()),
      algorithm: 'chacha20-poly1305',
    });
    const sealed = await envelope.encrypt('payload', {
      context: { tenant: 'acme', purpose: 'doc' },
    });
    if (!sealed.ok) throw sealed.error;
    const context = { purpose: 'doc', tenant: 'acme' }; // order does not matter
    expect((await envelope.decrypt(sealed.value, { context })).ok).toBe(true);
    for (const other of [undefined, { tenant: 'acme' }, { tenant: 'acme', purpose: 'x' }]) {
      const result = await envelope.decrypt(
        sealed.value,
        other === undefined ? {} : { context: other },
      );
      expect(!result.ok && result.error.code).toBe('CRYPTO_DECRYPT_FAILED');
    }
    for (let at = 0; at < sealed.value.length; at++) {
      const tampered = Buffer.from(sealed.value);
      tampered[at] = (tampered[at] as number) ^ 0x01;
      const result = await envelope.decrypt(tampered, { context });
      expect([at, !result.ok && result.error.code]).toEqual([at, 'CRYPTO_DECRYPT_FAILED']);
    }
    for (let length = 0; length < sealed.value.length; length += 7) {
      expect((await envelope.decrypt(sealed.value.subarray(0, length), { context })).ok).toBe(
        false,
      );
    }
  });

  it('master-key rotation re-wraps the data key only: the data bytes stay the same', async () => {
    const keyring = master();
    const envelope = createEnvelope({ provider: localKeyProvider(keyring) });
    const sealed = await envelope.encrypt('big document', { context: { id: '7' } });
    if (!sealed.ok) throw sealed.error;
    const oldKeyId = envelope.keyIdOf(sealed.value);
    const oldMaster = keyring.primaryId;
    keyring.rotate();
    const rewrapped = await envelope.rewrap(sealed.value, { context: { id: '7' } });
    if (!rewrapped.ok) throw rewrapped.error;
    expect(oldKeyId).toBe(String(oldMaster));
    expect(envelope.keyIdOf(rewrapped.value)).toBe(String(keyring.primaryId));
    const tail = (bytes: Buffer): Buffer =>
      bytes.subarray(bytes.length - 'big document'.length - 28);
    expect(tail(rewrapped.value).equals(tail(sealed.value))).toBe(true);
    keyring.disable(oldMaster);
    expect((await envelope.decrypt(sealed.value, { context: { id: '7' } })).ok).toBe(false);
    const opened = await envelope.decrypt(rewrapped.value, { context: { id: '7' } });
    expect(opened.ok && opened.value.toString()).toBe('big document');
  });

  it('a provider that throws or is unavailable is CRYPTO_KEY_PROVIDER_FAILED (retryable)', async () => {
    const local = localKeyProvider(master());
    const sealed = await createEnvelope({ provider: local }).encrypt('x');
    if (!sealed.ok) throw sealed.error;
    const throwing: KeyProvider = {
      name: 'kms',
      wrap: () => {
        throw new Error('ECONNRESET');
      },
      unwrap: () => {
        throw new Error('down');
      },
    };
    const unavailable: KeyProvider = {
      name: 'kms',
      wrap: () => err(CoreErrors.UNAVAILABLE('throttled')),
      unwrap: () => Promise.resolve(err(CoreErrors.UNAVAILABLE('throttled'))),
    };
    for (const provider of [throwing, unavailable]) {
      const envelope = createEnvelope({ provider });
      const wrapped = await envelope.encrypt('x');
      expect(!wrapped.ok && [wrapped.error.code, wrapped.error.retryable]).toEqual([
        'CRYPTO_KEY_PROVIDER_FAILED',
        true,
      ]);
      const unwrapped = await envelope.decrypt(sealed.value);
      expect(!unwrapped.ok && unwrapped.error.code).toBe('CRYPTO_KEY_PROVIDER_FAILED');
    }
    const wrongKey: KeyProvider = {
      name: 'kms',
      wrap: (key) => ok({ keyId: 'k', bytes: key }),
      unwrap: () => ok(Buffer.alloc(32)),
    };
    const envelope = createEnvelope({ provider: wrongKey });
    const mine = await envelope.encrypt('x');
    expect(mine.ok && !(await envelope.decrypt(mine.value)).ok).toBe(true);
  });

  it('refuses bad input and bad options', async () => {
    const envelope = createEnvelope({ provider: localKeyProvider(master()) });
    expect((await envelope.encrypt(5 as unknown as string)).ok).toBe(false);
    expect(
      (await envelope.encrypt('x', { context: { a: 1 } as unknown as Record<string, string> })).ok,
    ).toBe(false);
    expect((await envelope.decrypt('nope' as unknown as Uint8Array)).ok).toBe(false);
    expect(() => createEnvelope({ provider: {} as KeyProvider })).toThrow(/provider/);
    expect(() =>
      createEnvelope({ provider: localKeyProvider(master()), algorithm: 'des' as 'aes-256-gcm' }),
    ).toThrow(/algorithm/);
  });
});
