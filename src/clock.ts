/**
 * The time this process believes it is. Nothing that decides correctness reads it (versions come from
 * leases); it names runs, stamps the ops log and renders export keys. `BUCKETPIPE_TEST_CLOCK_OFFSET_MS`
 * shifts it, so that tests can run a process whose clock is wrong.
 */
export function now(): Date {
  return new Date(Date.now() + clockOffsetMs());
}

let offset: number | undefined;
function clockOffsetMs(): number {
  offset ??= Number(process.env.BUCKETPIPE_TEST_CLOCK_OFFSET_MS) || 0;
  return offset;
}
