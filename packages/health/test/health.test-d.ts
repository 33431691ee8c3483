import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { HttpResponse, Part, ProdError, Result } from '@prod/core';
import {
  applyServerTimeouts,
  type Beacon,
  type CheckResult,
  type ConnectionsReport,
  createHealth,
  type DrainableServer,
  type HealthCheck,
  type HealthReport,
  healthPart,
  onShutdown,
  postgresCheck,
  redisCheck,
  type ServerTimeouts,
  type ShutdownLogger,
  type ShutdownReport,
  type TimeoutServer,
} from '@prod/health';
import { describe, expectTypeOf, it } from 'vitest';

describe('@prod/health types', () => {
  const health = createHealth();

  it('register returns a Result with the two registration codes', () => {
    expectTypeOf(health.register).returns.toEqualTypeOf<
      Result<void, ProdError<'HEALTH_DUPLICATE_CHECK' | 'HEALTH_INVALID_CHECK'>>
    >();
  });

  it('probes give reports and neutral responses', () => {
    expectTypeOf(health.report('readiness')).toEqualTypeOf<Promise<HealthReport>>();
    expectTypeOf(health.response('liveness')).toEqualTypeOf<Promise<HttpResponse>>();
    expectTypeOf<HealthReport['checks']>().toEqualTypeOf<readonly CheckResult[]>();
    // @ts-expect-error: not a probe kind
    void health.report('sometimes');
  });

  it('beacons are disposable', () => {
    expectTypeOf(health.beacon('job')).toEqualTypeOf<Beacon>();
    expectTypeOf<Beacon>().toHaveProperty(Symbol.dispose);
  });

  it('factories accept structural clients and build checks', () => {
    expectTypeOf(redisCheck({ ping: async () => 'PONG' })).toEqualTypeOf<HealthCheck>();
    expectTypeOf(postgresCheck({ query: async () => ({ rows: [] }) })).toEqualTypeOf<HealthCheck>();
    // @ts-expect-error: a Redis client needs ping()
    redisCheck({ get: async () => 'x' });
  });

  it('a check must return a Result', () => {
    const good: HealthCheck = {
      name: 'a',
      kind: 'readiness',
      check: () => ({ ok: true, value: {} }),
    };
    expectTypeOf(good).toEqualTypeOf<HealthCheck>();
    // @ts-expect-error: a boolean is not a Result (use customCheck for that)
    const bad: HealthCheck = { name: 'a', kind: 'readiness', check: () => true };
    void bad;
  });

  it('node http servers drain; the part is a core Part', () => {
    expectTypeOf<Server>().toMatchTypeOf<DrainableServer>();
    expectTypeOf(healthPart(health)).toEqualTypeOf<Part>();
    expectTypeOf(onShutdown([], { exit: false }).shutdown()).toEqualTypeOf<
      Promise<ShutdownReport>
    >();
  });

  it('https servers drain and take the server timeouts too', () => {
    expectTypeOf<HttpsServer>().toMatchTypeOf<DrainableServer>();
    expectTypeOf<HttpsServer>().toMatchTypeOf<TimeoutServer>();
    expectTypeOf<Server>().toMatchTypeOf<TimeoutServer>();
    expectTypeOf(applyServerTimeouts).returns.toEqualTypeOf<ServerTimeouts>();
    // @ts-expect-error: a number is not a server
    applyServerTimeouts(3000);
  });

  it('the report counts what the drain cut; a logger needs no debug', () => {
    expectTypeOf<ShutdownReport['connections']>().toEqualTypeOf<ConnectionsReport>();
    expectTypeOf<ConnectionsReport['requestsCut']>().toEqualTypeOf<number>();
    const pinoLike: ShutdownLogger = { info() {}, warn() {}, error() {} };
    void pinoLike;
  });
});
