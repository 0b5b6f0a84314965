/**
 * The AWS SDK prints a multi-line notice on every run under Node 20 (its releases after January 2027
 * need Node 22). bucketpipe supports Node 20, so the notice is noise in every command's output;
 * all other warnings pass through.
 */
export function quietNodeVersionNotice() {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
    const text = typeof warning === 'string' ? warning : `${warning?.name}: ${warning?.message}`;
    if (type === 'NodeVersionSupportWarning' || String(text).startsWith('NodeVersionSupportWarning')) return;
    emit(warning, ...rest);
  };
}
