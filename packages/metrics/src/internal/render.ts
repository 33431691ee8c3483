import { err, ok, type Result } from '@prod/core';
import { Registry, type RegistryContentType } from 'prom-client';
import { MetricsErrors } from '../errors.js';

/** A rendered scrape: the body and its content type. */
export interface Exposition {
  readonly contentType: string;
  readonly body: string;
}

type MetricLike = ReturnType<Registry['getMetricsAsArray']>[number] & {
  get(): Promise<{ name: string }>;
};

const MAX_ACCEPT = 4096;

/**
 * Whether an Accept header prefers OpenMetrics text to the classic text format. Prometheus
 * sends both with q-values; OpenMetrics wins when its q is at least the text/plain one.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (typeof accept !== 'string' || !accept.includes('application/openmetrics-text')) {
    return false;
  }
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.slice(0, MAX_ACCEPT).split(',')) {
    const [type = '', ...params] = range.split(';');
    const q = qualityOf(params);
    const media = type.trim().toLowerCase();
    if (media === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, q);
    else if (media === 'text/plain') text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text;
}

function qualityOf(params: readonly string[]): number {
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim() === 'q') {
      const q = Number(value);
      return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
    }
  }
  return 1;
}

/**
 * Renders `registry` in the Prometheus text format or in OpenMetrics (the only one that
 * carries exemplars). prom-client does all the formatting.
 *
 * Details: prom-client renames counters in place (drops `_total`) when a registry renders
 * OpenMetrics, which would break every later classic scrape of the same metrics. So
 * OpenMetrics is rendered through a throw-away registry of wrappers, and the metrics
 * themselves are never touched.
 */
export async function renderMetrics(
  registry: Registry,
  openMetrics: boolean,
): Promise<Result<Exposition>> {
  try {
    if (!openMetrics && registry.contentType === Registry.PROMETHEUS_CONTENT_TYPE) {
      return ok({ contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await registry.metrics() });
    }
    const contentType = openMetrics
      ? Registry.OPENMETRICS_CONTENT_TYPE
      : Registry.PROMETHEUS_CONTENT_TYPE;
    const view = new Registry<RegistryContentType>();
    view.setContentType(contentType);
    view.setDefaultLabels(defaultLabelsOf(registry));
    for (const metric of registry.getMetricsAsArray() as MetricLike[]) {
      view.registerMetric(
        (openMetrics && String(metric.type) === 'counter' ? counterView(metric) : metric) as never,
      );
    }
    return ok({ contentType, body: await view.metrics() });
  } catch (cause) {
    return err(
      MetricsErrors.METRICS_SCRAPE_FAILED({
        message: 'a metric collector failed during the scrape',
        cause,
      }),
    );
  }
}

// A counter seen under its OpenMetrics family name (without `_total`); the registry of the
// view renames the wrapper, never the counter.
function counterView(metric: MetricLike): object {
  const family = metric.name.replace(/_total$/, '');
  return {
    name: family,
    help: metric.help,
    type: metric.type,
    aggregator: metric.aggregator,
    get: async (): Promise<object> => ({ ...(await metric.get()), name: family }),
  };
}

// prom-client has no getter for a registry's default labels; the view must repeat them.
function defaultLabelsOf(registry: Registry): Record<string, string> {
  const labels = (registry as unknown as { _defaultLabels?: unknown })._defaultLabels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}
