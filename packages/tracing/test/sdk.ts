import { context, propagation, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A registered OpenTelemetry SDK whose finished spans the test can read. */
export interface TestSdk {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** Finished spans, oldest first. */
  spans(): ReadableSpan[];
  /** The one finished span with this name. */
  span(name: string): ReadableSpan;
  uninstall(): Promise<void>;
}

export interface InstallOptions {
  /** Register the AsyncLocalStorage context manager. Default true. */
  readonly contextManager?: boolean;
  readonly sampler?: Sampler;
}

/** Registers a tracer provider with an in-memory exporter, the W3C propagator and (by default) ALS. */
export function installSdk(options: InstallOptions = {}): TestSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(options.sampler !== undefined && { sampler: options.sampler }),
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (options.contextManager !== false) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  return {
    provider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    span(name) {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name);
      if (found.length !== 1)
        throw new Error(`expected one span named ${name}, got ${found.length}`);
      return found[0]!;
    },
    async uninstall() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The ids of a live or finished span. */
export function idsOf(span: Span | ReadableSpan): { traceId: string; spanId: string } {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
