import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admit, describeBucket } from '../../shared/tenancy/token-bucket.js';

const limits = fc.record({
  requestsPerSecond: fc.double({ min: 0.1, max: 1000, noNaN: true }),
  burst: fc.integer({ min: 1, max: 200 }),
});

const replay = (times: number[], l: { requestsPerSecond: number; burst: number }) => {
  let tat: number | undefined;
  return times.map((now) => {
    const out = admit(tat, now, l);
    tat = out.next;
    return out.admitted;
  });
};

describe('GCRA token bucket', () => {
  it('admits exactly `burst` requests arriving at the same instant', () => {
    fc.assert(
      fc.property(limits, fc.integer({ min: 0, max: 300 }), (l, n) => {
        const admitted = replay(Array(n).fill(1_000_000), l).filter(Boolean).length;
        return admitted === Math.min(n, l.burst);
      }),
    );
  });

  it('never admits more than burst + rate × window in any window', () => {
    fc.assert(
      fc.property(limits, fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 200 }), (l, offsets) => {
        const times = [...offsets].sort((a, b) => a - b);
        const admitted = replay(times, l);
        const accepted = times.filter((_, i) => admitted[i]);
        for (let i = 0; i < accepted.length; i++) {
          for (let j = i; j < accepted.length; j++) {
            const window = (accepted[j] as number) - (accepted[i] as number);
            if (j - i + 1 > l.burst + Math.floor((window / 1000) * l.requestsPerSecond) + 1e-9) return false;
          }
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('refills at the sustained rate: after a drained burst, one more every interval', () => {
    const l = { requestsPerSecond: 10, burst: 3 };
    expect(replay([0, 0, 0, 0, 99, 100, 150, 200], l)).toEqual([
      true,
      true,
      true,
      false,
      false,
      true,
      false,
      true,
    ]);
  });

  it('reports remaining, reset and retry-after as the headers need them', () => {
    const l = { requestsPerSecond: 1, burst: 5 };
    const afterOne = describeBucket(1_000 + 1_000, 1_000, l, true);
    expect(afterOne).toMatchObject({ admitted: true, remaining: 4, resetSeconds: 1 });
    const drained = describeBucket(1_000 + 5_000, 1_000, l, false);
    expect(drained).toMatchObject({ admitted: false, remaining: 0, retryAfterSeconds: 1 });
  });
});
