import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** How {@link startTracing} sets up the OpenTelemetry SDK. */
export interface TracingOptions {
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** OTLP/HTTP collector base URL (`http://collector:4318`); no export when undefined. */
  readonly otlpEndpoint?: string | undefined;
  /** More span processors, e.g. an in-memory exporter in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** The process's tracing, started once. */
export interface Tracing {
  /** Sends the spans still buffered (a shutdown hook). */
  flush(): Promise<void>;
}

let started: Tracing | undefined;

/**
 * Registers the OpenTelemetry SDK for the process: the tracer provider, the
 * AsyncLocalStorage context manager and the W3C trace-context and baggage propagators, so
 * `tracingPart` continues the caller's `traceparent` and every span, log line and exemplar
 * carries the same trace id. Spans go to `otlpEndpoint` when given.
 *
 * Sampling follows the standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` variables
 * (default: parent-based, always on). The SDK is global: a second call returns the first
 * registration unchanged.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (started !== undefined) return started;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint !== undefined) {
    const base = options.otlpEndpoint.endsWith('/')
      ? options.otlpEndpoint
      : `${options.otlpEndpoint}/`;
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL('v1/traces', base).href })),
    );
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: processors,
  });
  provider.register();
  started = { flush: () => provider.forceFlush() };
  return started;
}
