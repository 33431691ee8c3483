import { currentContext, runWithContext } from '@prod/core';
import { injectTraceHeaders, withSpan } from '@prod/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installSdk, type TestSdk } from './sdk.js';

// An SDK registered without a context manager (a common mistake with BasicTracerProvider):
// OpenTelemetry's context.with is then a no-op, so nesting must come from @prod/core.
let sdk: TestSdk;
beforeAll(() => {
  sdk = installSdk({ contextManager: false });
});
afterAll(async () => {
  await sdk.uninstall();
});
beforeEach(() => {
  sdk.exporter.reset();
});

describe('withSpan with no OpenTelemetry context manager', () => {
  it('still nests spans through the @prod/core context, across awaits', async () => {
    await withSpan('outer', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await withSpan('inner', async () => {
        await Promise.resolve();
        withSpan('innermost', () => undefined);
      });
    });
    const outer = sdk.span('outer');
    expect(sdk.span('inner').parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(sdk.span('innermost').parentSpanContext?.spanId).toBe(
      sdk.span('inner').spanContext().spanId,
    );
  });

  it('keeps the request context ids and outgoing headers on the innermost span', () => {
    runWithContext({ requestId: 'r' }, () => {
      withSpan('step', (span) => {
        expect(currentContext()?.spanId).toBe(span.spanContext().spanId);
        expect(injectTraceHeaders().traceparent).toContain(span.spanContext().spanId);
      });
    });
  });
});
