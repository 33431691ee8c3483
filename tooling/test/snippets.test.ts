// Every documented snippet compiles against the public API, as a user would write it.
//
// What is checked:
// - each ```ts (or ```typescript) block of packages/*/README.md, docs/*.md and
//   examples/*/README.md;
// - each `@example` of the TSDoc in packages/*/src.
//
// How: every snippet becomes a file of one temporary project that installs @prod/* (through
// the `@prod/source` condition, so no build is needed) and the third-party packages of the
// workspace, and tsc checks them all at once with a user's flags: `strict` and nothing more,
// `module`/`moduleResolution` `nodenext`. A snippet is compiled as ESM (`.mts`) and as
// CommonJS (`.cts`): it must compile as both unless it uses top-level `await` or
// `import.meta`, which only ESM has (tsc says so, and the CommonJS check stops there). A
// snippet that needs ESM must say so in the text around it (save as `.mts`, or
// `"type": "module"`).
//
// The rules for writing a snippet (CONTRIBUTING-style):
// 1. A README or docs block is complete: it imports what it uses.
// 2. A block that is deliberately partial declares what it assumes in an HTML comment right
//    above the fence, invisible on GitHub and npm:
//        <!-- ts-prelude
//        import express from 'express';
//        declare const app: express.Express;
//        -->
//        ```ts
//        mountExpress(app, { parts: [] });
//        ```
//    The prelude is TypeScript placed before the block.
// 3. A TSDoc `@example` may use every export of its own package and of @prod/core without
//    importing it (they are imported for it, unless the example declares the same name).
//    Anything else it assumes it declares in its first lines (`declare const url: string;`),
//    which also tells the reader what the example takes as given.
// 4. A line that must not compile carries `// @ts-expect-error` above it, as in a type test.
// Nothing is skipped: a snippet that cannot follow these rules is not a snippet but prose.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

interface Snippet {
  /** Where it comes from, `file:line` of its first code line. */
  readonly where: string;
  readonly file: string;
  readonly line: number;
  readonly code: string;
  /** TypeScript placed before the code (imports, declarations); not the author's lines. */
  readonly preamble: string;
}

function dirs(parent: string): string[] {
  const at = join(ROOT, parent);
  if (!existsSync(at)) return [];
  return readdirSync(at, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(at, entry.name));
}

function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs');
  return [
    ...dirs('packages').map((dir) => join(dir, 'README.md')),
    ...readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(docs, name)),
    ...dirs('examples').map((dir) => join(dir, 'README.md')),
  ].filter((file) => existsSync(file));
}

const FENCE = /^(\s*)```(ts|typescript)\s*$/;
const PRELUDE = /<!--\s*ts-prelude\s*\n([\s\S]*?)-->\s*$/;

function markdownSnippets(file: string): Snippet[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = open[1]?.length ?? 0;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end] ?? '')) end++;
    const code = lines
      .slice(start, end)
      .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
      .join('\n');
    const before = lines.slice(Math.max(0, i - 40), i).join('\n');
    const at = before.lastIndexOf('<!-- ts-prelude');
    const prelude = at === -1 ? '' : (PRELUDE.exec(before.slice(at))?.[1] ?? '');
    const name = relative(ROOT, file);
    out.push({
      where: `${name}:${start + 1}`,
      file: name,
      line: start + 1,
      code,
      preamble: prelude,
    });
    i = end;
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The names a package's src/index.ts exports (values and types). */
function exportsOf(packageDir: string): string[] {
  const index = join(packageDir, 'src', 'index.ts');
  if (!existsSync(index)) return [];
  const names = new Set<string>();
  for (const match of readFileSync(index, 'utf8').matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const raw of (match[1] ?? '').split(',')) {
      const name = raw
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (name !== undefined && /^[A-Za-z_$][\w$]*$/.test(name)) names.add(name);
    }
  }
  return [...names];
}

function packageName(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string })
    .name;
}

/** Names a snippet declares or imports itself: those are not imported for it. */
function declaredNames(code: string): Set<string> {
  const names = new Set<string>();
  const declaration =
    /\b(?:const|let|var|function|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/g;
  for (const match of code.matchAll(declaration)) names.add(match[1] ?? '');
  for (const match of code.matchAll(/import\s+(?:type\s+)?([^'"]*?)\s+from\s+['"]/g)) {
    for (const name of (match[1] ?? '').replace(/[{}*]/g, ' ').split(/[\s,]+/)) {
      if (name !== '' && name !== 'type' && name !== 'as') names.add(name);
    }
  }
  return names;
}

function exampleSnippets(packageDir: string): Snippet[] {
  const own = packageName(packageDir);
  const ownExports = exportsOf(packageDir);
  const coreExports = own === '@prod/core' ? [] : exportsOf(join(ROOT, 'packages', 'core'));
  const out: Snippet[] = [];
  for (const file of sourceFiles(join(packageDir, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\*\s*@example\b/.test(lines[i] ?? '')) continue;
      const start = i + 1;
      let end = start;
      while (
        end < lines.length &&
        !/^\s*\*\//.test(lines[end] ?? '') &&
        !/^\s*\*\s*@\w+/.test(lines[end] ?? '')
      ) {
        end++;
      }
      let body = lines.slice(start, end).map((line) => line.replace(/^\s*\* ?/, ''));
      // An example may fence its code; the fence lines are not code.
      body = body.filter((line) => !/^```/.test(line.trim()));
      const code = body.join('\n');
      const mine = declaredNames(code);
      const imports = (names: string[], from: string): string => {
        const wanted = names.filter((name) => !mine.has(name));
        return wanted.length === 0 ? '' : `import { ${wanted.join(', ')} } from '${from}';\n`;
      };
      const coreNames = coreExports.filter((name) => !ownExports.includes(name));
      const name = relative(ROOT, file);
      out.push({
        where: `${name}:${start + 1} (@example)`,
        file: name,
        line: start + 1,
        code,
        preamble: imports(ownExports, own) + imports(coreNames, '@prod/core'),
      });
      i = end;
    }
  }
  return out;
}

const snippets: Snippet[] = [
  ...markdownFiles().flatMap(markdownSnippets),
  ...dirs('packages').flatMap(exampleSnippets),
];

// What tsc says of top-level await and import.meta in a CommonJS file: ESM-only, not wrong.
const ESM_ONLY_CODES = new Set([1309, 1343, 1375, 1378, 1431, 1432, 1470]);
const FORMATS = ['ESM', 'CommonJS'] as const;

interface Unit {
  readonly snippet: Snippet;
  readonly format: 'ESM' | 'CommonJS';
  readonly path: string;
  /** Lines added before the author's code in the written file. */
  readonly offset: number;
}

const units: Unit[] = [];
let project = '';
const errorsByFile = new Map<string, string[]>();

/** Links every package the workspace installed, first found wins, plus @prod/* itself. */
function installModules(target: string): void {
  const modules = join(target, 'node_modules');
  mkdirSync(join(modules, '@prod'), { recursive: true });
  for (const dir of dirs('packages')) {
    symlinkSync(dir, join(modules, packageName(dir)), 'dir');
  }
  const seen = new Set<string>();
  for (const dir of [ROOT, ...dirs('packages'), ...dirs('examples')]) {
    const installed = join(dir, 'node_modules');
    if (!existsSync(installed)) continue;
    for (const entry of readdirSync(installed)) {
      if (entry.startsWith('.') || entry === '@prod') continue;
      const names = entry.startsWith('@')
        ? readdirSync(join(installed, entry)).map((sub) => `${entry}/${sub}`)
        : [entry];
      for (const name of names) {
        if (seen.has(name)) continue;
        seen.add(name);
        const real = realpathSync(join(installed, name));
        if (name.includes('/'))
          mkdirSync(join(modules, name.split('/')[0] ?? ''), { recursive: true });
        symlinkSync(real, join(modules, name), 'dir');
      }
    }
  }
}

let firstPass = new Map<string, string[]>();

/**
 * Runs tsc over `files` with a user's flags; returns the files that do not parse (with their
 * errors) and keeps every error of the run in `firstPass`.
 */
function check(files: readonly string[]): Map<string, string[]> {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        types: ['node'],
        customConditions: ['@prod/source'],
        skipLibCheck: true,
        noEmit: true,
      },
      files,
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project, '--pretty', 'false'],
    { encoding: 'utf8', cwd: project, maxBuffer: 64 * 1024 * 1024 },
  );
  // Errors located in @prod sources are left out: through the source condition they are
  // compiled with the user's flags here, which a user of the published .d.ts never does
  // (`pnpm typecheck` checks them with the repository's flags).
  const all = new Map<string, string[]>();
  const syntax = new Map<string, string[]>();
  for (const line of `${tsc.stdout}`.split('\n')) {
    const match = /^(.*?)\((\d+),(\d+)\): (error TS(\d+): .*)$/.exec(line);
    if (match === null) continue;
    const file = join(project, match[1] ?? '');
    const error = `${match[2]}:${match[4]}`;
    all.set(file, [...(all.get(file) ?? []), error]);
    const code = Number(match[5]);
    if (code < 2000 && !ESM_ONLY_CODES.has(code)) syntax.set(file, all.get(file) ?? []);
  }
  for (const file of syntax.keys()) syntax.set(file, all.get(file) ?? []);
  firstPass = all;
  return syntax;
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'prod-snippets-'));
  installModules(project);
  const dir = join(project, 'snippets');
  mkdirSync(dir);
  snippets.forEach((snippet, n) => {
    for (const format of FORMATS) {
      const header = `// ${snippet.where}\n${snippet.preamble}\n`;
      const path = join(dir, `s${n}${format === 'ESM' ? '.mts' : '.cts'}`);
      // `export {}` keeps every file a module, so snippets never share top-level names.
      writeFileSync(path, `${header}${snippet.code}\nexport {};\n`);
      units.push({ snippet, format, path, offset: header.split('\n').length - 1 });
    }
  });
  // tsc reports no semantic error at all while any file has a syntax error: a first pass
  // finds the files that do not parse, a second checks the others.
  const broken = check(units.map((unit) => unit.path));
  if (broken.size > 0) check(units.map((unit) => unit.path).filter((path) => !broken.has(path)));
  for (const [file, errors] of [...broken, ...firstPass]) errorsByFile.set(file, errors);
}, 240_000);

const report: string[] = [];

afterAll(() => {
  // SNIPPETS_REPORT=path writes every error in full (reporters cut long assertion messages).
  const out = process.env.SNIPPETS_REPORT;
  if (out !== undefined && out !== '') writeFileSync(out, `${report.join('\n')}\n`);
  // SNIPPETS_KEEP=1 keeps the project to look at (its path is printed).
  if (process.env.SNIPPETS_KEEP === '1') console.log(`snippet project kept in ${project}`);
  else if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('documented snippets compile against the public API (plain --strict, nodenext)', () => {
  it('finds the snippets', () => {
    expect(snippets.length).toBeGreaterThan(50);
  });

  it.each(
    snippets.flatMap((snippet) =>
      FORMATS.map((format) => [`${snippet.where} as ${format}`, snippet, format] as const),
    ),
  )('%s', (_name, snippet, format) => {
    const unit = units.find((u) => u.snippet === snippet && u.format === format);
    expect(unit).toBeDefined();
    const raw = errorsByFile.get(unit?.path ?? '') ?? [];
    const esmOnly = raw.some((error) =>
      ESM_ONLY_CODES.has(Number(/error TS(\d+)/.exec(error)?.[1])),
    );
    if (format === 'CommonJS' && esmOnly) return;
    const errors = raw.map((error) => {
      const [line, ...rest] = error.split(':');
      const at = Number(line) - 1 - (unit?.offset ?? 0);
      const where = at < 0 ? `${snippet.where} (preamble)` : `${snippet.file}:${snippet.line + at}`;
      return `${where}: ${rest.join(':')}`;
    });
    if (errors.length > 0)
      report.push(`${snippet.where} as ${format}`, ...errors.map((e) => `  ${e}`));
    // One line per error, `file:line: error TSxxxx: message`, readable in any reporter.
    expect(errors.join('\n')).toBe('');
  });
});
