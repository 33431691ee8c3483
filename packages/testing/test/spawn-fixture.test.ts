import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnFixture, stopFixtures } from '../src/index.js';

const ECHO = join(import.meta.dirname, 'fixtures', 'echo-lines.ts');

afterEach(stopFixtures);

describe('spawnFixture', () => {
  it('passes args and env, splits stdout into whole lines, and talks over stdin', async () => {
    const fixture = spawnFixture(ECHO, {
      args: ['a', 'b'],
      env: { FIXTURE_FLAVOUR: 'mint' },
      stdin: true,
    });
    expect(await fixture.waitForLine('ready')).toBe('ready a b mint');
    // A line arriving in two chunks is one line, only once it is complete.
    expect(await fixture.waitForLine(/^no newline/)).toBe('no newline yet ... now');
    fixture.write('hello\n');
    expect(await fixture.waitForLine((line) => line.endsWith('hello'))).toBe('echo hello');
    fixture.write('exit 3\n');
    const exit = await fixture.exited;
    expect(exit).toEqual({
      code: 3,
      signal: null,
      stdout: 'ready a b mint\nno newline yet ... now\necho hello\nlast words',
    });
    // The last line without a newline counts once the script has ended.
    expect(fixture.lines.at(-1)).toBe('last words');
  });

  it('rejects waitForLine with TESTING_FIXTURE_FAILED when the script exits first', async () => {
    const fixture = spawnFixture(ECHO, { stdin: true });
    await fixture.waitForLine('ready');
    const waiting = fixture.waitForLine('never printed');
    fixture.end('exit 0\n');
    await expect(waiting).rejects.toMatchObject({
      code: 'TESTING_FIXTURE_FAILED',
      message: expect.stringMatching(/exited \(0\) before a line matching never printed/),
    });
  });

  it('rejects waitForLine when the timeout passes, and kill() ends a hanging script by signal', async () => {
    const fixture = spawnFixture(ECHO, { args: ['hang'] });
    await fixture.waitForLine('ready');
    await expect(fixture.waitForLine('never', { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'TESTING_FIXTURE_FAILED',
      message: expect.stringMatching(/printed nothing for 100 ms/),
    });
    fixture.kill('SIGTERM');
    expect(await fixture.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    // Killing an ended fixture is a no-op, not an ESRCH.
    expect(() => fixture.kill()).not.toThrow();
  });

  it('stopFixtures kills every fixture still running', async () => {
    const fixtures = [
      spawnFixture(ECHO, { args: ['hang'] }),
      spawnFixture(ECHO, { args: ['hang'] }),
    ];
    await Promise.all(fixtures.map((fixture) => fixture.waitForLine('ready')));
    await stopFixtures();
    for (const fixture of fixtures) {
      expect(fixture.child.signalCode).toBe('SIGKILL');
    }
  });

  it('a write to a script that has died is no EPIPE crash', async () => {
    const fixture = spawnFixture(ECHO, { stdin: true });
    await fixture.waitForLine('ready');
    fixture.write('exit 0\n');
    await fixture.exited;
    fixture.write('anyone there?\n');
    fixture.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fixture.child.exitCode).toBe(0);
  });
});
