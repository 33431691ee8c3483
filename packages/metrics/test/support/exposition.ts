import { spawnSync } from 'node:child_process';
import { inject } from 'vitest';

/** One sample line of an exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly exemplar?: { readonly labels: Record<string, string>; readonly value: number };
}

/** One metric family: its HELP, TYPE and samples. */
export interface Family {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
  counter: ['', '_total'],
  gauge: [''],
  untyped: [''],
};

/**
 * A strict, line-by-line reader of the Prometheus text format 0.0.4 and OpenMetrics 1.0 as
 * prom-client writes them (parse-prometheus-text-format drops histogram labels, so it cannot
 * check these). Throws on any line it does not understand, on samples outside a declared
 * family, on duplicate series and on histograms whose buckets are not cumulative.
 */
export function parseExposition(text: string, openMetrics = false): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (openMetrics) {
    if (lines.at(-1) !== '' || lines.at(-2) !== '# EOF') throw new Error('missing "# EOF"');
    lines.splice(-2);
  } else if (lines.at(-1) === '') {
    lines.pop();
  }
  let current: { name: string; type?: string; help?: string; samples: Sample[] } | undefined;
  const seen = new Set<string>();
  const flush = (): void => {
    if (current === undefined) return;
    if (current.type === undefined || current.help === undefined) {
      throw new Error(`${current.name}: HELP and TYPE are both required`);
    }
    if (families.has(current.name)) throw new Error(`${current.name}: declared twice`);
    families.set(current.name, current as Family);
    current = undefined;
  };
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}: ${line.slice(0, 120)}`;
    if (line === '') {
      if (openMetrics) throw new Error(`${where}: blank line in OpenMetrics`);
      continue;
    }
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (current?.name !== name) {
        flush();
        current = { name, samples: [] };
      }
      if (kind === 'HELP') current.help = rest;
      else if (SUFFIXES[rest] === undefined) throw new Error(`${where}: unknown type`);
      else current.type = rest;
      continue;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unexpected comment`);
    if (current?.type === undefined) throw new Error(`${where}: sample before TYPE`);
    const sample = parseSample(line, where);
    const suffix = sample.name.slice(current.name.length);
    const allowed = SUFFIXES[current.type] ?? [];
    if (!sample.name.startsWith(current.name) || !allowed.includes(suffix)) {
      throw new Error(`${where}: sample outside family ${current.name}`);
    }
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`${where}: duplicate series`);
    seen.add(id);
    current.samples.push(sample);
  }
  flush();
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function parseSample(line: string, where: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error(`${where}: no metric name`);
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest, where);
    labels = parsed.labels;
    rest = rest.slice(parsed.length);
  }
  const [valuePart, exemplarPart] = rest.split(' # ');
  const fields = (valuePart ?? '').trim().split(' ');
  if (!(valuePart ?? '').startsWith(' ') || fields.length < 1 || fields.length > 2) {
    throw new Error(`${where}: malformed value`);
  }
  const value = parseValue(fields[0] ?? '', where);
  if (exemplarPart === undefined) return { name, labels, value };
  const exemplarLabels = parseLabels(exemplarPart, where);
  const exemplarFields = exemplarPart.slice(exemplarLabels.length).trim().split(' ');
  return {
    name,
    labels,
    value,
    exemplar: {
      labels: exemplarLabels.labels,
      value: parseValue(exemplarFields[0] ?? '', where),
    },
  };
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN' || text === 'Nan') return Number.NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`${where}: bad value "${text}"`);
  return value;
}

function parseLabels(
  text: string,
  where: string,
): { labels: Record<string, string>; length: number } {
  const labels: Record<string, string> = Object.create(null);
  let i = 1;
  while (text[i] !== '}') {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (name === undefined || text[i + name.length] !== '=' || text[i + name.length + 1] !== '"') {
      throw new Error(`${where}: malformed label at ${i}`);
    }
    i += name.length + 2;
    let value = '';
    for (;;) {
      const char = text[i];
      if (char === undefined) throw new Error(`${where}: unterminated label value`);
      i++;
      if (char === '"') break;
      if (char === '\\') {
        const escaped = text[i++];
        if (escaped === 'n') value += '\n';
        else if (escaped === '\\' || escaped === '"') value += escaped;
        else throw new Error(`${where}: bad escape`);
      } else if (char === '\n') {
        throw new Error(`${where}: raw newline in label value`);
      } else {
        value += char;
      }
    }
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = value;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected , or }`);
  }
  return { labels, length: i + 1 };
}

function checkHistogram(family: Family): void {
  const bySeries = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    bySeries.set(key, [...(bySeries.get(key) ?? []), sample]);
  }
  for (const samples of bySeries.values()) {
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
    const count = samples.find((s) => s.name.endsWith('_count'));
    if (buckets.length === 0 || count === undefined) {
      throw new Error(`${family.name}: a series lacks buckets or _count`);
    }
    let previousBound = Number.NEGATIVE_INFINITY;
    let previousValue = 0;
    for (const bucket of buckets) {
      const bound = parseValue(bucket.labels.le ?? '', family.name);
      if (bound <= previousBound || bucket.value < previousValue) {
        throw new Error(`${family.name}: buckets not cumulative`);
      }
      previousBound = bound;
      previousValue = bucket.value;
    }
    if (previousBound !== Number.POSITIVE_INFINITY || previousValue !== count.value) {
      throw new Error(`${family.name}: +Inf bucket must equal _count`);
    }
  }
}

/** Distinct label sets of a family (a histogram's buckets count once). */
export function seriesOf(family: Family | undefined): Record<string, string>[] {
  const out = new Map<string, Record<string, string>>();
  for (const sample of family?.samples ?? []) {
    const { le: _le, quantile: _quantile, ...rest } = sample.labels;
    out.set(JSON.stringify(Object.entries(rest).sort()), rest);
  }
  return [...out.values()];
}

/** The value of one sample, found by name and a subset of its labels. */
export function sampleValue(
  families: Map<string, Family>,
  family: string,
  sampleName: string,
  labels: Record<string, string>,
): number | undefined {
  return families
    .get(family)
    ?.samples.find(
      (s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )?.value;
}

/** Whether promtool is installed (looked up once per run by `promtool-setup.ts`). */
export const hasPromtool: boolean = inject('promtool');

/**
 * Runs `promtool check metrics` on a Prometheus text exposition. Returns its problems (an
 * empty list when clean), or undefined when promtool is not installed: the global setup said
 * so once for the run (and failed it under CI=true, where .ci/run installs promtool).
 */
export function promtoolCheck(text: string): string[] | undefined {
  if (!hasPromtool) return undefined;
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;
  const output = `${run.stdout}${run.stderr}`.trim();
  if (run.status === 0) return [];
  return output === '' ? [`promtool exited with ${run.status}`] : output.split('\n');
}
