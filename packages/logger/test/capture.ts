import type { DestinationStream } from 'pino';

/** A destination that keeps every line, parsed. */
export interface Capture {
  readonly stream: DestinationStream;
  readonly lines: Record<string, unknown>[];
  readonly raw: string[];
}

export function capture(): Capture {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    stream: {
      write(line: string): void {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  };
}
