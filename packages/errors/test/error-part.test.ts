import * as core from '@prod/core';
import { CoreErrors, type HttpRequest, PROBLEM_CONTENT_TYPE, runWithContext } from '@prod/core';
import { ErrorAggregator, errorPart, toHttpResponse } from '@prod/errors';
import { describe, expect, it } from 'vitest';

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/notes/1',
    route: '/notes/:id',
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: { id: '1' },
    body: undefined,
    signal: undefined,
    meta: {},
    ...overrides,
  };
}

describe('toHttpResponse from @prod/errors', () => {
  it('is the renderer of @prod/core, re-exported', () => {
    expect(toHttpResponse).toBe(core.toHttpResponse);
  });
});

describe('errorPart', () => {
  it('is a part whose onError answers with toHttpResponse', () => {
    const part = errorPart();
    expect(part.name).toBe('errors');
    const response = part.onError?.(CoreErrors.CONFLICT('taken'), request());
    expect(response?.status).toBe(409);
    expect(response?.headers?.['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('records server errors (not client errors) in the aggregator, with route and request id', async () => {
    const aggregator = new ErrorAggregator({ sinks: [], flushIntervalMs: 0 });
    const part = errorPart({ aggregator });
    runWithContext({ requestId: 'req-1' }, () => part.onError?.(new Error('boom'), request()));
    part.onError?.(CoreErrors.NOT_FOUND(), request());
    const groups = aggregator.groups();
    expect(groups).toHaveLength(1);
    expect(groups[0]?.samples[0]).toMatchObject({ requestId: 'req-1', route: '/notes/:id' });
  });

  it('captureIf chooses which statuses are recorded', () => {
    const captured: unknown[] = [];
    const part = errorPart({
      aggregator: { capture: (e) => captured.push(e) },
      captureIf: () => true,
    });
    part.onError?.(CoreErrors.NOT_FOUND(), request());
    expect(captured).toHaveLength(1);
  });
});
