import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/store/poll.js';

describe('pollUntil', () => {
  it('asks until the condition holds, telling of the first miss once', async () => {
    let asked = 0;
    let missed = 0;
    const held = await pollUntil(async () => ++asked >= 4, { firstMs: 1, maxMs: 2, onFirstMiss: () => missed++ });
    expect({ held, asked, missed }).toEqual({ held: true, asked: 4, missed: 1 });
  });

  it('gives up after its time-out, and does not tell of a miss when the first answer holds', async () => {
    expect(await pollUntil(async () => false, { firstMs: 1, maxMs: 2, timeoutMs: 20 })).toBe(false);
    let missed = 0;
    expect(await pollUntil(async () => true, { firstMs: 1, maxMs: 2, timeoutMs: 0, onFirstMiss: () => missed++ })).toBe(true);
    expect(missed).toBe(0);
  });
});
