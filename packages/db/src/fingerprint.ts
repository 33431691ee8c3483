/**
 * What a query is, whatever its literals: the text with every literal and parameter turned
 * into `$n`, lists folded, comments and spacing dropped, and what it does to which table.
 */
export interface QueryFingerprint {
  /** The normalized text, e.g. `SELECT * FROM notes WHERE id IN ($1 /*, ... *\/) AND title = $2`. */
  readonly text: string;
  /** A short stable hash of `text` (16 hex characters), for log fields and map keys. */
  readonly id: string;
  /**
   * The statement's verb, upper case: `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`,
   * `COPY`, `CREATE`, `ALTER`, `DROP`, `BEGIN`, `COMMIT`... (the verb after `WITH ...` for a
   * CTE), or `OTHER`: a bounded set, safe as a metric label.
   */
  readonly operation: string;
  /** The table the statement reads first or writes (`notes`, `app.notes`), when there is one. */
  readonly table: string | undefined;
  /** How many statements the text holds (`SELECT 1; SELECT 2` holds 2). */
  readonly statements: number;
}

enum Kind {
  Word = 0,
  Keyword = 1,
  Quoted = 2,
  Literal = 3,
  Param = 4,
  Operator = 5,
  Open = 6,
  Close = 7,
  OpenBracket = 8,
  CloseBracket = 9,
  Comma = 10,
  Semicolon = 11,
  Dot = 12,
  Cast = 13,
  Colon = 14,
  Fold = 15,
}

interface Token {
  kind: Kind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'ABORT ALL ALTER ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BEGIN BETWEEN BOTH BY ' +
    'CALL CASCADE CASE CAST CHECK CLOSE CLUSTER COLLATE COLUMN COMMENT COMMIT COMMITTED CONCURRENTLY ' +
    'CONFLICT CONSTRAINT COPY CREATE CROSS CUBE CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP ' +
    'CURRENT_USER CURSOR DATABASE DEALLOCATE DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC ' +
    'DISCARD DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXECUTE EXISTS EXPLAIN EXTENSION ' +
    'FALSE FETCH FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL FUNCTION GRANT GROUP GROUPING HAVING ' +
    'IF ILIKE IMMEDIATE IN INDEX INNER INSERT INTERSECT INTO IS ISOLATION JOIN KEY ' +
    'LAST LATERAL LEADING LEFT LEVEL LIKE LIMIT LISTEN LOCAL LOCK LOCKED MATERIALIZED MERGE MODE ' +
    'NATURAL NEXT NO NOT NOTHING NOTIFY NOWAIT NULL NULLS OF OFFSET ON ONLY OR ORDER OTHERS OUTER OVER ' +
    'OVERLAPS PARTITION PLACING PRECEDING PREPARE PRIMARY RANGE READ RECURSIVE REFERENCES REFRESH ' +
    'REINDEX RELEASE RENAME REPEATABLE RESET RESTRICT RETURNING REVOKE RIGHT ROLLBACK ROLLUP ROW ROWS ' +
    'SAVEPOINT SCHEMA SELECT SEQUENCE SERIALIZABLE SESSION SESSION_USER SET SETS SHARE SHOW SIMILAR ' +
    'SKIP SOME START SYMMETRIC TABLE TABLESAMPLE TEMP TEMPORARY THEN TO TRAILING ' +
    'TRANSACTION TRIGGER TRUE TRUNCATE UNBOUNDED UNCOMMITTED UNION UNIQUE UNLISTEN UNLOGGED UPDATE ' +
    'USING VACUUM VALUES VARIADIC VIEW WHEN WHERE WINDOW WITH WITHIN WITHOUT WORK WRITE ZONE'
  ).split(' '),
);

// The verbs a metric label may take; anything else is OTHER, so the label stays bounded.
const OPERATIONS = new Set(
  (
    'ALTER ANALYZE BEGIN CALL CLOSE CLUSTER COMMENT COMMIT COPY CREATE DEALLOCATE DECLARE DELETE ' +
    'DISCARD DO DROP END EXECUTE EXPLAIN FETCH GRANT INSERT LISTEN LOCK MERGE NOTIFY PREPARE REFRESH ' +
    'REINDEX RELEASE RESET REVOKE ROLLBACK SAVEPOINT SELECT SET SHOW START TABLE TRUNCATE UNLISTEN ' +
    'UPDATE VACUUM VALUES'
  ).split(' '),
);

const OPERATOR_CHARS = new Set('+-*/<>=~!@#%^&|`?'.split(''));

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentStart = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c) || c === 36;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** The end of a block comment starting at `from` (PostgreSQL nests them). */
function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
      depth += 1;
      i += 2;
    } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return sql.length;
}

/** The end of a quoted run (`'...'` or `"..."`) starting at the quote; doubled quotes escape. */
function quotedEnd(sql: string, from: number, quote: number, backslash: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (backslash && c === 92) i += 2;
    else if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else i += 1;
  }
  return sql.length;
}

/** The end of a dollar-quoted string at `from` (`$tag$...$tag$`), or -1 when it is not one. */
function dollarEnd(sql: string, from: number): number {
  let i = from + 1;
  while (i < sql.length && isIdentPart(sql.charCodeAt(i)) && sql.charCodeAt(i) !== 36) i += 1;
  if (sql.charCodeAt(i) !== 36) return -1;
  const tag = sql.slice(from, i + 1);
  const close = sql.indexOf(tag, i + 1);
  return close === -1 ? sql.length : close + tag.length;
}

function numberEnd(sql: string, from: number): number {
  let i = from;
  const c0 = sql.charCodeAt(i);
  const c1 = sql.charCodeAt(i + 1) | 32;
  if (c0 === 48 && (c1 === 120 || c1 === 111 || c1 === 98)) {
    i += 2;
    while (i < sql.length && (isIdentPart(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i += 1;
    return i;
  }
  while (i < sql.length && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i += 1;
  if (sql.charCodeAt(i) === 46 && sql.charCodeAt(i + 1) !== 46) {
    i += 1;
    while (i < sql.length && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i += 1;
  }
  if ((sql.charCodeAt(i) | 32) === 101) {
    let j = i + 1;
    if (sql.charCodeAt(j) === 43 || sql.charCodeAt(j) === 45) j += 1;
    if (isDigit(sql.charCodeAt(j))) {
      i = j;
      while (i < sql.length && isDigit(sql.charCodeAt(i))) i += 1;
    }
  }
  return i;
}

const LITERAL: Token = { kind: Kind.Literal, text: '?' };

// Whether a `-` or `+` before a number is a sign (after an operator, a keyword, `(`, `,`...)
// rather than a binary operator (after a value).
function signContext(previous: Token | undefined): boolean {
  if (previous === undefined) return true;
  switch (previous.kind) {
    case Kind.Word:
    case Kind.Quoted:
    case Kind.Literal:
    case Kind.Param:
    case Kind.Close:
    case Kind.CloseBracket:
      return false;
    case Kind.Keyword:
      return previous.text !== 'NULL' && previous.text !== 'TRUE' && previous.text !== 'FALSE';
    default:
      return true;
  }
}

/** Splits `sql` into significant tokens: comments and spacing dropped, literals as one token. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const length = sql.length;
  let i = 0;
  while (i < length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i += 1;
      continue;
    }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? length : end + 1;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      i = blockCommentEnd(sql, i);
      continue;
    }
    if (c === 39) {
      i = quotedEnd(sql, i, 39, false);
      tokens.push(LITERAL);
      continue;
    }
    if (c === 34) {
      const end = quotedEnd(sql, i, 34, false);
      tokens.push({ kind: Kind.Quoted, text: sql.slice(i, end) });
      i = end;
      continue;
    }
    if (c === 36) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        let end = i + 1;
        while (end < length && isDigit(sql.charCodeAt(end))) end += 1;
        tokens.push({ kind: Kind.Param, text: '?' });
        i = end;
        continue;
      }
      const end = dollarEnd(sql, i);
      if (end !== -1) {
        tokens.push(LITERAL);
        i = end;
        continue;
      }
      tokens.push({ kind: Kind.Operator, text: '$' });
      i += 1;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i = numberEnd(sql, i);
      const previous = tokens[tokens.length - 1];
      const beforeSign = tokens[tokens.length - 2];
      if (
        previous !== undefined &&
        previous.kind === Kind.Operator &&
        (previous.text === '-' || previous.text === '+') &&
        signContext(beforeSign)
      ) {
        tokens[tokens.length - 1] = LITERAL;
      } else tokens.push(LITERAL);
      continue;
    }
    if (isIdentStart(c)) {
      let end = i + 1;
      while (end < length && isIdentPart(sql.charCodeAt(end))) end += 1;
      const next = sql.charCodeAt(end);
      const word = sql.slice(i, end);
      const lower = end - i <= 2 ? word.toLowerCase() : '';
      // Prefixed strings: E'..', B'..', X'..', N'..', U&'..' (and U&".." identifiers).
      if (next === 39 && (lower === 'e' || lower === 'b' || lower === 'x' || lower === 'n')) {
        i = quotedEnd(sql, end, 39, lower === 'e');
        tokens.push(LITERAL);
        continue;
      }
      if (lower === 'u' && next === 38) {
        const quote = sql.charCodeAt(end + 1);
        if (quote === 39) {
          i = quotedEnd(sql, end + 1, 39, false);
          tokens.push(LITERAL);
          continue;
        }
        if (quote === 34) {
          const close = quotedEnd(sql, end + 1, 34, false);
          tokens.push({ kind: Kind.Quoted, text: sql.slice(i, close) });
          i = close;
          continue;
        }
      }
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) tokens.push({ kind: Kind.Keyword, text: upper });
      else tokens.push({ kind: Kind.Word, text: word.toLowerCase() });
      i = end;
      continue;
    }
    switch (c) {
      case 40:
        tokens.push({ kind: Kind.Open, text: '(' });
        i += 1;
        continue;
      case 41:
        tokens.push({ kind: Kind.Close, text: ')' });
        i += 1;
        continue;
      case 91:
        tokens.push({ kind: Kind.OpenBracket, text: '[' });
        i += 1;
        continue;
      case 93:
        tokens.push({ kind: Kind.CloseBracket, text: ']' });
        i += 1;
        continue;
      case 44:
        tokens.push({ kind: Kind.Comma, text: ',' });
        i += 1;
        continue;
      case 59:
        tokens.push({ kind: Kind.Semicolon, text: ';' });
        i += 1;
        continue;
      case 46:
        tokens.push({ kind: Kind.Dot, text: '.' });
        i += 1;
        continue;
      case 58:
        if (sql.charCodeAt(i + 1) === 58) {
          tokens.push({ kind: Kind.Cast, text: '::' });
          i += 2;
        } else {
          tokens.push({ kind: Kind.Colon, text: ':' });
          i += 1;
        }
        continue;
      default:
        break;
    }
    if (OPERATOR_CHARS.has(sql[i] as string)) {
      let end = i + 1;
      while (end < length && OPERATOR_CHARS.has(sql[end] as string)) {
        // `--` and `/*` start comments even inside an operator.
        const a = sql.charCodeAt(end);
        const b = sql.charCodeAt(end + 1);
        if ((a === 45 && b === 45) || (a === 47 && b === 42)) break;
        end += 1;
      }
      tokens.push({ kind: Kind.Operator, text: sql.slice(i, end) });
      i = end;
      continue;
    }
    // Anything else (a stray backslash, a lone character): kept as an operator.
    tokens.push({ kind: Kind.Operator, text: sql[i] as string });
    i += 1;
  }
  return tokens;
}

const isValue = (token: Token | undefined): boolean =>
  token !== undefined && (token.kind === Kind.Literal || token.kind === Kind.Param);

/** The index just past the group opened at `open` (its matching close), or -1. */
function groupEnd(tokens: readonly Token[], open: number): number {
  const opener = tokens[open]?.kind;
  const closer = opener === Kind.OpenBracket ? Kind.CloseBracket : Kind.Close;
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const kind = tokens[i]?.kind;
    if (kind === opener) depth += 1;
    else if (kind === closer) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const shape = (tokens: readonly Token[], from: number, to: number): string => {
  let out = '';
  for (let i = from; i < to; i++) {
    const token = tokens[i] as Token;
    out += token.kind === Kind.Literal || token.kind === Kind.Param ? '?' : token.text;
    out += ' ';
  }
  return out;
};

/**
 * Items of a comma-separated list in tokens[from, to) at depth 0: each a value or a
 * parenthesized tuple. Returns the item bounds when every item is such, else undefined.
 */
function valueItems(
  tokens: readonly Token[],
  from: number,
  to: number,
): Array<[number, number]> | undefined {
  const items: Array<[number, number]> = [];
  let i = from;
  while (i < to) {
    const token = tokens[i] as Token;
    let end: number;
    if (isValue(token)) {
      end = i + 1;
      // A cast keeps the item a value: $1::int.
      while (tokens[end]?.kind === Kind.Cast && tokens[end + 1]?.kind === Kind.Word) end += 2;
    } else if (token.kind === Kind.Open) {
      end = groupEnd(tokens, i);
      if (end === -1 || end > to) return undefined;
      for (let j = i + 1; j < end - 1; j++) {
        const inner = tokens[j] as Token;
        if (
          !isValue(inner) &&
          inner.kind !== Kind.Comma &&
          inner.kind !== Kind.Cast &&
          inner.kind !== Kind.Word
        ) {
          return undefined;
        }
      }
    } else return undefined;
    items.push([i, end]);
    if (end === to) break;
    if (tokens[end]?.kind !== Kind.Comma) return undefined;
    i = end + 1;
  }
  return items.length === 0 ? undefined : items;
}

const FOLD: Token = { kind: Kind.Fold, text: '/*, ... */' };

/** Folds `IN (...)`, `ARRAY[...]` and multi-row `VALUES (...), (...)` lists to their first item. */
function fold(tokens: Token[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    const listOpen =
      (token.kind === Kind.Keyword && token.text === 'IN' && next?.kind === Kind.Open) ||
      (token.kind === Kind.Keyword && token.text === 'ARRAY' && next?.kind === Kind.OpenBracket);
    if (listOpen) {
      const end = groupEnd(tokens, i + 1);
      const items = end === -1 ? undefined : valueItems(tokens, i + 2, end - 1);
      const first = items?.[0];
      if (items !== undefined && first !== undefined) {
        const firstShape = shape(tokens, first[0], first[1]);
        if (items.every(([from, to]) => shape(tokens, from, to) === firstShape)) {
          out.push(token, tokens[i + 1] as Token, ...tokens.slice(first[0], first[1]), FOLD);
          out.push(tokens[end - 1] as Token);
          i = end;
          continue;
        }
      }
    }
    if (token.kind === Kind.Keyword && token.text === 'VALUES' && next?.kind === Kind.Open) {
      const rows: Array<[number, number]> = [];
      let at = i + 1;
      while (tokens[at]?.kind === Kind.Open) {
        const end = groupEnd(tokens, at);
        if (end === -1) break;
        rows.push([at, end]);
        if (tokens[end]?.kind !== Kind.Comma || tokens[end + 1]?.kind !== Kind.Open) break;
        at = end + 1;
      }
      const first = rows[0];
      if (rows.length > 1 && first !== undefined) {
        const firstShape = shape(tokens, first[0], first[1]);
        if (rows.every(([from, to]) => shape(tokens, from, to) === firstShape)) {
          out.push(token, ...tokens.slice(first[0], first[1]), FOLD);
          i = (rows[rows.length - 1] as [number, number])[1];
          continue;
        }
      }
    }
    out.push(token);
    i += 1;
  }
  return out;
}

function render(tokens: readonly Token[]): string {
  let out = '';
  let n = 0;
  let previous: Token | undefined;
  for (const token of tokens) {
    let text = token.text;
    if (token.kind === Kind.Literal || token.kind === Kind.Param) {
      n += 1;
      text = `$${n}`;
    }
    if (previous !== undefined) {
      const glued =
        token.kind === Kind.Close ||
        token.kind === Kind.CloseBracket ||
        token.kind === Kind.Comma ||
        token.kind === Kind.Semicolon ||
        token.kind === Kind.Dot ||
        token.kind === Kind.Cast ||
        token.kind === Kind.Colon ||
        previous.kind === Kind.Open ||
        previous.kind === Kind.OpenBracket ||
        previous.kind === Kind.Dot ||
        previous.kind === Kind.Cast ||
        previous.kind === Kind.Colon ||
        ((token.kind === Kind.Open || token.kind === Kind.OpenBracket) &&
          (previous.kind === Kind.Word ||
            previous.kind === Kind.Quoted ||
            token.kind === Kind.OpenBracket));
      if (!glued) out += ' ';
    }
    out += text;
    previous = token;
  }
  return out;
}

// The statement's verb and table, read from the first statement at depth 0.
function describe(tokens: readonly Token[]): { operation: string; table: string | undefined } {
  let i = 0;
  // WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...) [, ...] <verb>
  if (tokens[0]?.kind === Kind.Keyword && tokens[0].text === 'WITH') {
    i = 1;
    let depth = 0;
    while (i < tokens.length) {
      const kind = (tokens[i] as Token).kind;
      if (kind === Kind.Open) depth += 1;
      else if (kind === Kind.Close) depth -= 1;
      else if (depth === 0 && kind === Kind.Keyword) {
        const text = (tokens[i] as Token).text;
        if (
          text === 'SELECT' ||
          text === 'INSERT' ||
          text === 'UPDATE' ||
          text === 'DELETE' ||
          text === 'MERGE' ||
          text === 'VALUES' ||
          text === 'TABLE'
        )
          break;
      }
      i += 1;
    }
  } else {
    // A parenthesized SELECT: (SELECT ...) UNION (...)
    while (tokens[i]?.kind === Kind.Open) i += 1;
  }
  const verb = tokens[i];
  if (verb === undefined) return { operation: 'OTHER', table: undefined };
  const word = verb.kind === Kind.Keyword || verb.kind === Kind.Word ? verb.text.toUpperCase() : '';
  const operation = OPERATIONS.has(word) ? (word === 'END' ? 'COMMIT' : word) : 'OTHER';
  const nameAt = (at: number): string | undefined => {
    let j = at;
    while (
      tokens[j]?.kind === Kind.Keyword &&
      (tokens[j]?.text === 'ONLY' ||
        tokens[j]?.text === 'TABLE' ||
        tokens[j]?.text === 'INTO' ||
        tokens[j]?.text === 'FROM')
    )
      j += 1;
    const first = tokens[j];
    if (first === undefined || (first.kind !== Kind.Word && first.kind !== Kind.Quoted))
      return undefined;
    let name = first.text;
    while (tokens[j + 1]?.kind === Kind.Dot) {
      const part = tokens[j + 2];
      if (
        part === undefined ||
        (part.kind !== Kind.Word && part.kind !== Kind.Quoted && part.kind !== Kind.Keyword)
      )
        break;
      name += `.${part.kind === Kind.Keyword ? part.text.toLowerCase() : part.text}`;
      j += 2;
    }
    return name;
  };
  let table: string | undefined;
  if (operation === 'SELECT' || operation === 'DELETE') {
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const token = tokens[j] as Token;
      if (token.kind === Kind.Open) depth += 1;
      else if (token.kind === Kind.Close) depth -= 1;
      else if (token.kind === Kind.Semicolon && depth <= 0) break;
      else if (depth === 0 && token.kind === Kind.Keyword && token.text === 'FROM') {
        table = nameAt(j + 1);
        break;
      }
    }
  } else if (
    operation === 'INSERT' ||
    operation === 'MERGE' ||
    operation === 'UPDATE' ||
    operation === 'COPY' ||
    operation === 'TRUNCATE' ||
    operation === 'TABLE' ||
    operation === 'LOCK' ||
    operation === 'VACUUM' ||
    operation === 'ANALYZE'
  ) {
    table = nameAt(i + 1);
  }
  return { operation, table };
}

function countStatements(tokens: readonly Token[]): number {
  let statements = 0;
  let open = false;
  for (const token of tokens) {
    if (token.kind === Kind.Semicolon) {
      if (open) statements += 1;
      open = false;
    } else open = true;
  }
  return open ? statements + 1 : statements;
}

// cyrb53: a fast 53-bit string hash, good enough to key fingerprints.
function hash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

const MAX_TEXT = 4096;

/**
 * Fingerprints a SQL text without a round trip: every literal (strings, numbers, `E'..'`,
 * dollar-quoted, bit strings) and every parameter becomes `$n` (numbered in order), `IN`
 * lists, `ARRAY[...]` and multi-row `VALUES` fold to their first item followed by
 * `/*, ... *\/`, comments and spacing go, keywords are upper-cased and unquoted names
 * lower-cased. `WHERE id IN (1, 2, 3)` and `where id in ($1)` share one fingerprint.
 *
 * When to use: grouping queries (metrics, logs, N+1 detection) by what they do. The
 * tokenizer knows PostgreSQL's lexical rules (nested comments, `''` and `E'\''` escapes,
 * `$tag$` strings, quoted identifiers); it does not parse, so `operation` and `table` are
 * read from the first statement's shape. A normalized text longer than 4096 characters is cut
 * and ends with `#<id>` so that distinct long queries stay distinct.
 *
 * @example
 * const a = fingerprintQuery("SELECT * FROM notes WHERE id IN (1, 2, 3) AND title = 'x'");
 * const b = fingerprintQuery('select * from notes where id in ($1) and title = $2');
 * a.text; // 'SELECT * FROM notes WHERE id IN ($1 /*, ... *\/) AND title = $2'
 * a.id === b.id; // true
 * a.operation; // 'SELECT'
 * a.table; // 'notes'
 */
export function fingerprintQuery(sql: string): QueryFingerprint {
  const tokens = tokenize(sql);
  const folded = fold(tokens);
  let text = render(folded);
  const id = hash(text);
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)} ... #${id}`;
  const { operation, table } = describe(tokens);
  return { text, id, operation, table, statements: countStatements(tokens) };
}

/**
 * The character ranges of the top-level `CONCURRENTLY` keywords of `sql` (outside strings,
 * comments and quoted names). Internal: used to replay `CREATE INDEX CONCURRENTLY` inside a
 * transaction for drift detection.
 */
export function concurrentlyRanges(sql: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const pattern = /concurrently/gi;
  for (let match = pattern.exec(sql); match !== null; match = pattern.exec(sql)) {
    const from = match.index;
    const to = from + match[0].length;
    const before = sql.charCodeAt(from - 1);
    const after = sql.charCodeAt(to);
    if ((from > 0 && isIdentPart(before)) || isIdentPart(after)) continue;
    // Inside a string or comment? Tokenize the prefix and see whether the keyword survives.
    const head = tokenize(sql.slice(0, to));
    const last = head[head.length - 1];
    if (last?.kind === Kind.Keyword && last.text === 'CONCURRENTLY') ranges.push([from, to]);
  }
  return ranges;
}
