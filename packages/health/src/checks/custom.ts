import { err, isProdError, isResult, ok, type ProdError, type Result } from '@prod/core';
import type { CheckContext, CheckOptions, HealthCheck, Observation } from '../check.js';
import { HealthErrors } from '../errors.js';
import { buildCheck } from '../internal/build-check.js';
import { describeThrown } from '../internal/safe-output.js';

/** What a custom check function may return. */
export type CustomCheckOutcome =
  | boolean
  | undefined
  | Observation
  | Result<Observation | undefined, unknown>;

/** Options of {@link customCheck}. */
export interface CustomCheckOptions extends CheckOptions {
  /** Default `component`. */
  readonly componentType?: string;
}

/**
 * A check from any function: `true`, nothing, or an {@link Observation} passes; `false`,
 * a throw or an `Err` fails. The observed value defaults to the run's duration.
 *
 * @returns a {@link HealthCheck} (kind `readiness` unless told otherwise).
 * @example
 * let migrated = false;
 * const migrations = customCheck('migrations', () => migrated, { kind: 'startup' });
 */
export function customCheck(
  name: string,
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `() => {}` and `async () => {}` pass.
  fn: (context: CheckContext) => CustomCheckOutcome | void | Promise<CustomCheckOutcome | void>,
  options: CustomCheckOptions = {},
): HealthCheck {
  return buildCheck(
    {
      name,
      measurement: 'responseTime',
      kind: 'readiness',
      componentType: options.componentType ?? 'component',
    },
    options,
    async (context): Promise<Result<Observation, ProdError>> => {
      let outcome: CustomCheckOutcome | undefined;
      // `void` from the signature is `undefined` at run time.
      try {
        outcome = (await fn(context)) as CustomCheckOutcome | undefined;
      } catch (error) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({
            message: describeThrown(error),
            cause: error,
            captureStack: false,
          }),
        );
      }
      if (outcome === false) {
        return err(
          HealthErrors.HEALTH_CHECK_FAILED({ message: `${name} is down`, captureStack: false }),
        );
      }
      if (outcome === true || outcome === undefined || outcome === null) return ok({});
      if (isResult(outcome)) {
        if (outcome.ok) return ok((outcome.value ?? {}) as Observation);
        const error = outcome.error;
        return err(
          isProdError(error)
            ? error
            : HealthErrors.HEALTH_CHECK_FAILED({
                message: describeThrown(error),
                cause: error,
                captureStack: false,
              }),
        );
      }
      return ok(typeof outcome === 'object' ? (outcome as Observation) : {});
    },
  );
}
