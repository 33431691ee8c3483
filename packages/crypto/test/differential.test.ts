// Differential tests against an independent implementation (@noble/ciphers): what the keyring
// writes, noble decrypts; what noble writes in our format, the keyring decrypts.
import { Buffer } from 'node:buffer';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createKeyring, generateKey, type KeySpec } from '@prod/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const noble = (
  algorithm: KeySpec['algorithm'],
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
) => (algorithm === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad));

describe.each(['aes-256-gcm', 'chacha20-poly1305'] as const)(
  '%s against @noble/ciphers',
  (algorithm) => {
    const spec = { ...generateKey(algorithm), status: 'primary' as const };
    const keyring = createKeyring({ keys: [spec] });
    const key = Buffer.from(spec.key as string, 'base64url');

    it('noble decrypts what the keyring writes', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 4096 }),
          fc.uint8Array({ maxLength: 64 }),
          (plaintext, aad) => {
            const sealed = keyring.encrypt(plaintext, aad);
            if (!sealed.ok) throw sealed.error;
            const nonce = sealed.value.subarray(5, 17);
            const opened = noble(algorithm, key, nonce, aad).decrypt(sealed.value.subarray(17));
            expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('the keyring decrypts what noble writes in our format, and refuses it tampered', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 4096 }),
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.nat(),
          (plaintext, aad, nonce, flip) => {
            const header = Buffer.alloc(5);
            header[0] = 1;
            header.writeUInt32BE(spec.id, 1);
            const body = noble(algorithm, key, nonce, aad).encrypt(plaintext);
            const blob = Buffer.concat([header, nonce, body]);
            const opened = keyring.decrypt(blob, aad);
            expect(opened.ok && opened.value.equals(Buffer.from(plaintext))).toBe(true);
            const tampered = Buffer.from(blob);
            const at = flip % tampered.length;
            tampered[at] = (tampered[at] as number) ^ 0x80;
            expect(keyring.decrypt(tampered, aad).ok).toBe(false);
          },
        ),
        { numRuns: 150 },
      );
    });
  },
);
