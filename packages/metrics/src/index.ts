// Kept for existing imports; the set itself lives in @prod/core, shared with @prod/tracing.
export { KNOWN_HTTP_METHODS } from '@prod/core';
export type { ClusterMetrics, ClusterMetricsOptions } from './cluster-metrics.js';
export { clusterMetrics, shareWithCluster } from './cluster-metrics.js';
export type { Metrics, MetricsOptions } from './create-metrics.js';
export { createMetrics } from './create-metrics.js';
export { MetricsErrors } from './errors.js';
export type {
  HttpLabel,
  HttpMetrics,
  HttpMetricsOptions,
  HttpRequestLabels,
} from './http-metrics.js';
export {
  createHttpMetrics,
  HTTP_LABELS,
  HTTP_SERVER_DURATION_BUCKETS,
  OVERFLOW_COUNTER,
  OVERFLOW_LABEL,
} from './http-metrics.js';
export type { MetricsDebugLogger } from './internal/debug.js';
export type { Exposition } from './internal/render.js';
export type { MetricsPartOptions } from './metrics-part.js';
export { metricsPart } from './metrics-part.js';
export type { RuntimeMetricsOptions } from './runtime-metrics.js';
export { registerRuntimeMetrics } from './runtime-metrics.js';
export type { SeriesCapOptions } from './series-cap.js';
export { SeriesCap } from './series-cap.js';
