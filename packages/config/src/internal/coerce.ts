import type { Coercion } from './schema-walk.js';

const TRUE = new Set(['true', '1', 'yes', 'on', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'n']);
const NUMBER = /^[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$|^0[xX][0-9a-fA-F]+$/;

/**
 * Turns a string from the environment (or a `.env` file, or a `_FILE`) into what the leaf's
 * schema expects. A string that does not convert is returned as it is, so the schema reports
 * it as the wrong type with the text that was found.
 */
export function coerce(raw: string, coercion: Coercion): unknown {
  switch (coercion.kind) {
    case 'string':
      return raw;
    case 'boolean': {
      const text = raw.trim().toLowerCase();
      if (TRUE.has(text)) return true;
      if (FALSE.has(text)) return false;
      return raw;
    }
    case 'number': {
      const text = raw.trim();
      if (!NUMBER.test(text)) return raw;
      const value = Number(text.replaceAll('_', ''));
      return Number.isFinite(value) ? value : raw;
    }
    case 'bigint': {
      try {
        return BigInt(raw.trim());
      } catch {
        return raw;
      }
    }
    case 'date': {
      const value = new Date(raw.trim());
      return Number.isNaN(value.getTime()) ? raw : value;
    }
    case 'json':
      return parseJson(raw);
    case 'list': {
      const text = raw.trim();
      if (text.startsWith('[')) return parseJson(raw);
      if (text === '') return [];
      return text.split(',').map((item) => coerce(item.trim(), coercion.element));
    }
    case 'literal': {
      for (const value of coercion.values) if (String(value) === raw.trim()) return value;
      return raw;
    }
    case 'union': {
      for (const option of coercion.options) {
        const candidate = coerce(raw, option.coercion);
        if (option.schema.safeParse(candidate).success) return candidate;
      }
      return raw;
    }
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
