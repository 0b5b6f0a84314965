/**
 * The AWS SDK prints a multi-line notice on every run under Node 20 (its releases after January 2027
 * need Node 22). bucketpipe supports Node 20, so the notice is noise in every command's output;
 * all other warnings pass through.
 */
export function quietNodeVersionNotice(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : `${warning?.name}: ${warning?.message}`;
    if (type === 'NodeVersionSupportWarning' || String(text).startsWith('NodeVersionSupportWarning')) return;
    (emit as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
