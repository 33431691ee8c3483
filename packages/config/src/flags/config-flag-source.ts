import { optionChecks } from '@prod/core';
import type { z } from 'zod';
import type { Config, ConfigSchema } from '../define-config.js';
import { ConfigErrors } from '../errors.js';
import { isPlainObject } from '../internal/values.js';
import type { ConfigPath } from '../types.js';
import type { FlagSource } from './types.js';

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);

/**
 * Flag definitions from a key of the configuration (a record of definitions, as
 * {@link flagDefinitions} declares it): from files, `.env`, the environment (JSON) or runtime
 * sources. Declare the key reloadable and flags change with every accepted update.
 *
 * @example
 * import { z } from 'zod';
 * const config = defineConfig(z.object({ flags: reloadable(flagDefinitions()) }));
 * const flags = createFlags({ 'notes.search': flag.boolean(false) }, { source: configFlagSource(config, 'flags') });
 */
export function configFlagSource<TSchema extends ConfigSchema>(
  config: Config<TSchema>,
  path: ConfigPath<z.output<TSchema>>,
): FlagSource {
  if (typeof config?.get !== 'function' || typeof config.onChange !== 'function') {
    check.fail('config', 'a Config from defineConfig', config);
  }
  const read = (): ReadonlyMap<string, unknown> => {
    const value = config.get(path) as unknown;
    return isPlainObject(value) ? new Map(Object.entries(value)) : new Map();
  };
  let current = read();
  return {
    name: `config:${path}`,
    definitions: () => current,
    subscribe(listener) {
      return config.onChange(path, () => {
        current = read();
        listener(undefined);
      });
    },
  };
}
