import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@prod/logger';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'prod-logger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pretty output', () => {
  it('writes human-readable lines through pino-pretty only when asked, still redacted', async () => {
    const file = join(dir, 'pretty.log');
    const logger = createLogger({
      pretty: { colorize: false },
      destination: file,
      level: 'info',
    });
    logger.info({ user: { password: 'pw-1' } }, 'hello pretty');
    await logger.close();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('INFO');
    expect(text).toContain('hello pretty');
    expect(text).not.toContain('pw-1');
    expect(() => JSON.parse(text.split('\n')[0]!)).toThrow();
  });

  it('writes JSON to a file path without pretty', async () => {
    const file = join(dir, 'plain.log');
    const logger = createLogger({ destination: file, base: null });
    logger.warn({ n: 1 }, 'to file');
    await logger.close();
    const line = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', n: 1, msg: 'to file' });
  });
});
