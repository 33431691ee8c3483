import { AlwaysOffSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { currentContext, runWithContext } from '@prod/core';
import { injectTraceHeaders, withSpan } from '@prod/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSdk, type TestSdk } from './sdk.js';

let sdk: TestSdk;
beforeAll(() => {
  sdk = installSdk({ sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) });
});
afterAll(async () => {
  await sdk.uninstall();
});

describe('withSpan with a sampled-out span', () => {
  it('exports nothing but propagates the unsampled trace to children and outgoing calls', () => {
    let traceId = '';
    let childTraceId = '';
    let traceparent: string | undefined;
    withSpan('root', (span) => {
      expect(span.isRecording()).toBe(false);
      traceId = span.spanContext().traceId;
      withSpan('child', (child) => {
        childTraceId = child.spanContext().traceId;
      });
      traceparent = injectTraceHeaders().traceparent;
    });
    expect(sdk.spans()).toEqual([]);
    expect(traceId).not.toBe('00000000000000000000000000000000');
    expect(childTraceId).toBe(traceId);
    expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  });

  it('leaves the request context as it is (no copy for a span that is not recorded)', () => {
    const ctx = { requestId: 'r' };
    runWithContext(ctx, () => {
      withSpan('unsampled', () => {
        expect(currentContext()).toBe(ctx);
      });
    });
  });
});
