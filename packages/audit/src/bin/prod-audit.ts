#!/usr/bin/env node
// prod-audit verify <file> : the offline verifier of exported audit logs (JSON lines: records,
// or pino lines carrying `audit`). Keys come from the environment or files, never argv.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { verifyRecords } from '../verify.js';

const USAGE = `usage: prod-audit verify <file | -> [options]

Verifies the hash chain and the signed checkpoints of an exported audit log (JSON lines) and
reports every record that was modified, deleted, inserted or reordered.

options:
  --key-env NAME   read a signing key from this environment variable (default PROD_AUDIT_KEY;
                   repeat for older keys)
  --key-file PATH  read a signing key from a file (trailing newline ignored; repeatable)
  --chain NAME     verify this chain only
  --json           print the report as JSON

exit status: 0 valid, 1 tampering found, 2 usage or read error`;

interface Parsed {
  readonly file: string;
  readonly keys: string[];
  readonly chain: string | undefined;
  readonly json: boolean;
}

function parse(argv: readonly string[]): Parsed | string {
  const [command, ...rest] = argv;
  if (command !== 'verify')
    return command === undefined || command === '--help' || command === '-h'
      ? USAGE
      : `unknown command ${command}\n\n${USAGE}`;
  let file: string | undefined;
  const keys: string[] = [];
  const envNames: string[] = [];
  let chain: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    const value = (): string | undefined => rest[++i];
    if (arg === '--json') json = true;
    else if (arg === '--chain') chain = value();
    else if (arg === '--key-env') {
      const name = value();
      if (name === undefined) return '--key-env needs a variable name';
      envNames.push(name);
    } else if (arg === '--key-file') {
      const path = value();
      if (path === undefined) return '--key-file needs a path';
      try {
        keys.push(readFileSync(path, 'utf8').replace(/\r?\n$/, ''));
      } catch {
        return `cannot read the key file ${path}`;
      }
    } else if (arg === '--help' || arg === '-h') return USAGE;
    else if (arg.startsWith('--')) return `unknown option ${arg}\n\n${USAGE}`;
    else if (file === undefined) file = arg;
    else return `one file at a time\n\n${USAGE}`;
  }
  if (file === undefined) return `which file?\n\n${USAGE}`;
  for (const name of envNames.length > 0 ? envNames : ['PROD_AUDIT_KEY']) {
    const key = process.env[name];
    if (key !== undefined && key !== '') keys.push(key);
    else if (envNames.length > 0) return `the environment variable ${name} is empty`;
  }
  return { file, keys, chain, json };
}

async function main(): Promise<number> {
  const parsed = parse(process.argv.slice(2));
  if (typeof parsed === 'string') {
    const help = parsed === USAGE;
    (help ? process.stdout : process.stderr).write(`${parsed}\n`);
    return help ? 0 : 2;
  }
  const input =
    parsed.file === '-' ? process.stdin : createReadStream(parsed.file, { encoding: 'utf8' });
  const opened = await new Promise<Error | undefined>((resolve) => {
    if (input === process.stdin) resolve(undefined);
    input.once('error', resolve);
    input.once('readable', () => resolve(undefined));
    input.once('end', () => resolve(undefined));
  });
  if (opened !== undefined) {
    process.stderr.write(`prod-audit: cannot read ${parsed.file}: ${opened.message}\n`);
    return 2;
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const report = await verifyRecords(lines, {
    keys: parsed.keys,
    ...(parsed.chain === undefined ? {} : { chain: parsed.chain }),
  });
  if (parsed.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const chain of report.chains) {
      process.stdout.write(
        `chain ${chain.chain}: ${chain.records} records, ${chain.checkpoints} checkpoints, last seq ${chain.lastSeq}, sealed through ${chain.sealedThrough}, ${chain.unsealed} unsealed\n`,
      );
    }
    for (const issue of report.issues) {
      const line = issue.position === undefined ? '' : ` (line ${issue.position + 1})`;
      process.stdout.write(
        `${issue.kind.toUpperCase()}${issue.chain === '' ? '' : ` ${issue.chain}`}${issue.seq === undefined ? '' : ` seq ${issue.seq}`}${line}: ${issue.message}\n`,
      );
    }
    if (!report.signaturesChecked) {
      process.stdout.write(
        'warning: no key given (PROD_AUDIT_KEY, --key-env, --key-file): checkpoint signatures were not checked\n',
      );
    }
    process.stdout.write(
      report.ok
        ? `OK: ${report.records} records verified\n`
        : `TAMPERED: ${report.issues.length} issues\n`,
    );
  }
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`prod-audit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
