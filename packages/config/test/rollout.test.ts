import { execFileSync } from 'node:child_process';
import {
  createFlags,
  flag,
  inRollout,
  memoryFlagSource,
  ROLLOUT_BUCKETS,
  rolloutBucket,
} from '@prod/config';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const key = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
const seed = fc.string({ minLength: 1, maxLength: 40 });
const percentage = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100);

describe('rollout hashing (properties)', () => {
  it('puts every key in a bucket in [0, 10000)', () => {
    fc.assert(
      fc.property(seed, key, (s, k) => {
        const bucket = rolloutBucket(s, k);
        return Number.isInteger(bucket) && bucket >= 0 && bucket < ROLLOUT_BUCKETS;
      }),
    );
  });

  it('raising the percentage never drops a key already in (monotonic inclusion)', () => {
    fc.assert(
      fc.property(seed, key, percentage, percentage, (s, k, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        return !inRollout(s, k, low) || inRollout(s, k, high);
      }),
      { numRuns: 2000 },
    );
  });

  it('0 % includes nobody and 100 % everybody', () => {
    fc.assert(fc.property(seed, key, (s, k) => !inRollout(s, k, 0) && inRollout(s, k, 100)));
  });

  it('the same holds through flag evaluation when a definition is edited upwards', () => {
    fc.assert(
      fc.property(
        fc.array(key, { minLength: 1, maxLength: 30 }),
        percentage,
        percentage,
        (keys, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const source = memoryFlagSource({ f: { rules: [{ rollout: low, variant: 'on' }] } });
          const flags = createFlags({ f: flag.boolean(false) }, { source, flushIntervalMs: 0 });
          const before = keys.filter((k) => flags.isEnabled('f', { targetingKey: k }));
          source.set('f', { rules: [{ rollout: high, variant: 'on' }] });
          return before.every((k) => flags.isEnabled('f', { targetingKey: k }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is roughly uniform: a 10 % rollout takes about 10 % of keys', () => {
    let inside = 0;
    const total = 20_000;
    for (let i = 0; i < total; i++) if (inRollout('notes.search', `user-${i}`, 10)) inside++;
    expect(inside / total).toBeGreaterThan(0.09);
    expect(inside / total).toBeLessThan(0.11);
  });

  it('different seeds shuffle keys independently', () => {
    let both = 0;
    for (let i = 0; i < 10_000; i++)
      if (inRollout('a', `k${i}`, 50) && inRollout('b', `k${i}`, 50)) both++;
    expect(both / 10_000).toBeGreaterThan(0.22);
    expect(both / 10_000).toBeLessThan(0.28);
  });
});

describe('rollout hashing is stable across processes', () => {
  it('gives the same buckets in a fresh Node process (nothing process-local goes in)', () => {
    const samples = fc.sample(fc.tuple(seed, key), { numRuns: 200, seed: 42 });
    const here = samples.map(([s, k]) => rolloutBucket(s, k));
    // A child with another hash seed for V8's own tables, another random state and timezone.
    const script = `
      import { rolloutBucket } from '@prod/config';
      const samples = JSON.parse(process.argv[1]);
      process.stdout.write(JSON.stringify(samples.map(([s, k]) => rolloutBucket(s, k))));
    `;
    const out = execFileSync(
      process.execPath,
      [
        '--hash-seed=12345',
        '--random-seed=7',
        '--conditions=@prod/source',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        JSON.stringify(samples),
      ],
      {
        cwd: new URL('..', import.meta.url),
        env: { ...process.env, TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8' },
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(out)).toEqual(here);
  }, 30_000);

  it('is MurmurHash3 x86_32 of "<seed>:<key>", the same as Unleash (normalizedValue = hash % 100 + 1)', () => {
    // Unleash's cross-SDK vectors: normalizedValue('123', 'gr1') = 73, ('999', 'groupX') = 25.
    expect((rolloutBucket('gr1', '123') % 100) + 1).toBe(73);
    expect((rolloutBucket('groupX', '999') % 100) + 1).toBe(25);
  });
});
