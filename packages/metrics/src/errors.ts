import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/metrics.
 *
 * `METRICS_INVALID_OPTIONS`, `METRICS_INVALID_NAME` and `METRICS_NAME_CONFLICT` are thrown:
 * they are bugs in the calling code. `METRICS_SCRAPE_FAILED` and `METRICS_CLUSTER_UNAVAILABLE`
 * are returned as `Err` by the scrape functions.
 */
export const MetricsErrors = defineErrors({
  METRICS_INVALID_OPTIONS: { status: 500, title: 'Invalid metrics options' },
  METRICS_INVALID_NAME: { status: 500, title: 'Invalid metric name' },
  METRICS_NAME_CONFLICT: { status: 500, title: 'Metric name already registered' },
  METRICS_SCRAPE_FAILED: { status: 500, title: 'Metrics collection failed' },
  METRICS_CLUSTER_UNAVAILABLE: {
    status: 503,
    title: 'Cluster metrics unavailable',
    retryable: true,
  },
});
