/**
 * Faults that tests switch on to prove that a check catches what they break. For tests only: set
 * `BUCKETPIPE_TEST_FAULT` nowhere else, since a fault loses data on purpose.
 *
 * - `drop-one-row`: the split loses the first row of each object on its way to the data table. The
 *   run's accounting must then fail the object, with its figures, and keep nothing of it.
 */
export type TestFault = 'drop-one-row';

const FAULTS: readonly TestFault[] = ['drop-one-row'];

/** `BUCKETPIPE_TEST_FAULT`, read here and nowhere else; unknown values switch nothing on. */
export function testFaultFromEnv(env: NodeJS.ProcessEnv): TestFault | undefined {
  const value = env.BUCKETPIPE_TEST_FAULT;
  return FAULTS.find((f) => f === value);
}
