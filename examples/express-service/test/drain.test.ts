import { fileURLToPath } from 'node:url';
import { drainUnderLoad } from 'example-notes-app/e2e/drain';
import { describe, expect, it } from 'vitest';

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));

describe('express: SIGTERM under keep-alive load', () => {
  it('answers every request already sent, refuses new connections, and exits 0', async () => {
    const run = await drainUnderLoad({ server, connections: 200, signalAfterMs: 1500 });
    expect(run.warmConnections).toBe(200);
    expect(run.resets).toEqual([]);
    expect(run.beforeSignal.answered).toBeGreaterThan(0);
    // Each client's next connection, opened after its last answer, finds the listener closed.
    expect(run.afterSignal.refused).toBe(200);
    expect(run.exitCode).toBe(0);
    expect(run.shutdownLog.find((line) => line.msg === 'shutdown: done')).toMatchObject({
      exitCode: 0,
      drained: true,
      connectionsCut: 0,
      requestsCut: 0,
    });
  }, 90_000);
});
