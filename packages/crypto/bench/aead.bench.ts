/**
 * AES-256-GCM encrypt and decrypt through a @prod/crypto keyring against raw node:crypto, at
 * 100 B, 4 KiB and 1 MiB. Raw node:crypto is the code a careful user writes by hand: a random
 * 12-byte IV, `createCipheriv` with the key as a Buffer, `Buffer.concat([iv, update, final,
 * tag])`; decrypt slices the IV and tag back. The keyring does the same work plus its 5-byte
 * header (version, key id), which it authenticates as associated data, and the key lookup.
 * Run: `pnpm bench:micro crypto/bench/aead`.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createKeyring } from '@prod/crypto';
import { keep, type MicroGroup, runMicro } from '../../../config/bench-micro.js';

const key = randomBytes(32);
const keyring = createKeyring({ keys: [{ id: 1, key, status: 'primary' }] });

function rawEncrypt(plaintext: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function rawDecrypt(sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([
    decipher.update(sealed.subarray(12, sealed.length - 16)),
    decipher.final(),
  ]);
}

const OURS = '@prod/crypto keyring';
const RAW = 'raw node:crypto';
const sizes: [string, number][] = [
  ['100 B', 100],
  ['4 KiB', 4096],
  ['1 MiB', 1024 * 1024],
];

const groups: MicroGroup[] = sizes.flatMap(([label, size]): MicroGroup[] => {
  const plaintext = randomBytes(size);
  const sealedOurs = keyring.encrypt(plaintext);
  if (!sealedOurs.ok) throw sealedOurs.error;
  const sealedRaw = rawEncrypt(plaintext);
  return [
    {
      name: `encrypt ${label}`,
      contenders: {
        [OURS]: () => keep(keyring.encrypt(plaintext)),
        [RAW]: () => keep(rawEncrypt(plaintext)),
      },
      ratios: [{ ours: OURS, peer: RAW }],
    },
    {
      name: `decrypt ${label}`,
      contenders: {
        [OURS]: () => keep(keyring.decrypt(sealedOurs.value)),
        [RAW]: () => keep(rawDecrypt(sealedRaw)),
      },
      ratios: [{ ours: OURS, peer: RAW }],
    },
  ];
});

await runMicro({
  file: import.meta.url,
  title: '@prod/crypto: AES-256-GCM through a keyring vs raw node:crypto',
  groups,
});
