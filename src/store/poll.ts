/**
 * Asks `holds` again and again, the pause doubling from `firstMs` up to `maxMs`, until it says yes
 * (true) or `timeoutMs` has passed (false; without it, asks until yes). Most conditions the store
 * is asked about hold within a few tens of milliseconds: a fixed long pause would make every wait
 * last at least that long. `onFirstMiss` is told once, when the first answer is no.
 */
export async function pollUntil(
  holds: () => Promise<boolean>,
  options: { firstMs: number; maxMs: number; timeoutMs?: number; onFirstMiss?: () => void },
): Promise<boolean> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (let pause = options.firstMs; ; pause = Math.min(pause * 2, options.maxMs)) {
    if (await holds()) return true;
    if (pause === options.firstMs) options.onFirstMiss?.();
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
