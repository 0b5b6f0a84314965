import { BucketpipeError, toErrorReport } from '../errors.js';

/** How a command prints: human text to stdout, or one JSON document with --json. */
export interface Output {
  json: boolean;
  verbose: boolean;
  /** Human text; ignored with --json. */
  line(text?: string): void;
  /** The command's result document with --json. */
  result(value: unknown): void;
  /** A status line that rewrites itself on a terminal (stderr); nothing elsewhere. */
  progress(text: string): void;
  endProgress(): void;
}

export function createOutput(options: { json?: boolean; verbose?: boolean }): Output {
  const json = Boolean(options.json);
  const tty = Boolean(process.stderr.isTTY) && !json;
  let progressShown = false;
  return {
    json,
    verbose: Boolean(options.verbose),
    line(text = '') {
      if (!json) process.stdout.write(text + '\n');
    },
    result(value) {
      if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    },
    progress(text) {
      if (!tty) return;
      process.stderr.write('\r\x1b[2K' + text.slice(0, (process.stderr.columns || 120) - 1));
      progressShown = true;
    },
    endProgress() {
      if (progressShown) process.stderr.write('\r\x1b[2K');
      progressShown = false;
    },
  };
}

/** Prints an error as a sentence (a stack only with --verbose) and returns the exit code. */
export function reportError(output: Output, error: unknown): number {
  output.endProgress();
  const report = toErrorReport(error);
  if (output.json) {
    process.stdout.write(JSON.stringify({ error: report }, null, 2) + '\n');
  } else {
    process.stderr.write(`error: ${report.message}\n`);
    if (output.verbose && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  }
  return error instanceof BucketpipeError && error.code === 'PROJECT_INVALID' ? 2 : 1;
}

/** A plain text table with left-aligned columns. */
export function textTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
