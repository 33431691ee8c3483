import type {
  CheckFunction,
  CheckKind,
  CheckOptions,
  ComponentType,
  HealthCheck,
} from '../check.js';

/** The defaults a built-in check factory picks, overridden by the user's options. */
export interface CheckDefaults {
  readonly name: string;
  readonly measurement: string;
  readonly kind: CheckKind | readonly CheckKind[];
  readonly componentType: ComponentType;
  readonly timeout?: number;
  readonly cacheTtl?: number;
}

/** Merges a factory's defaults with the caller's {@link CheckOptions}. */
export function buildCheck(
  defaults: CheckDefaults,
  options: CheckOptions,
  check: CheckFunction,
  lifecycle: Pick<HealthCheck, 'start' | 'stop'> = {},
): HealthCheck {
  const pick = <TKey extends keyof CheckOptions>(key: TKey): Partial<Pick<CheckOptions, TKey>> =>
    options[key] === undefined ? {} : ({ [key]: options[key] } as Pick<CheckOptions, TKey>);
  return {
    name: options.name ?? defaults.name,
    measurement: options.measurement ?? defaults.measurement,
    kind: options.kind ?? defaults.kind,
    componentType: defaults.componentType,
    ...(defaults.timeout === undefined ? {} : { timeout: defaults.timeout }),
    ...(defaults.cacheTtl === undefined ? {} : { cacheTtl: defaults.cacheTtl }),
    ...pick('critical'),
    ...pick('timeout'),
    ...pick('interval'),
    ...pick('cacheTtl'),
    ...pick('staleAfter'),
    ...pick('componentId'),
    check,
    ...lifecycle,
  };
}

/** Milliseconds since `started`, to three decimals. */
export function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
