import { describe, expect, it } from 'vitest';
import { createPressureReader } from '../../shared/health/read-pressure.js';

const world = () => {
  let now = Date.parse('2026-12-01T00:00:00Z');
  const calls = { count: 0, depth: 0, ping: 0 };
  let failCount = false;
  const queue = {
    depth: async () => {
      calls.depth++;
      return { waiting: 3, inFlight: 1 };
    },
  };
  const read = createPressureReader(
    {
      dependencies: {
        dynamodb: {
          ping: async () => {
            calls.ping++;
          },
        },
      },
      fleetQueue: queue,
      lambdaQueue: queue,
      countRunning: async () => {
        calls.count++;
        if (failCount) throw new Error('throttled');
        return 7;
      },
      clock: { now: () => now },
    },
    2_000,
  );
  return {
    read,
    calls,
    advance: (ms: number) => {
      now += ms;
    },
    failNext: (v: boolean) => {
      failCount = v;
    },
  };
};

describe('the pressure reading behind the unauthenticated /v1/pressure', () => {
  it('a flood of calls within the interval costs one count query, shared by concurrent callers', async () => {
    const w = world();
    const answers = await Promise.all(Array.from({ length: 200 }, () => w.read()));
    w.advance(1_999);
    answers.push(await w.read());
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ accepting: true, running: 7, queued: { fleet: 3, lambda: 3 } });
    expect(w.calls).toEqual({ count: 1, depth: 2, ping: 1 });
    w.advance(1);
    await w.read();
    expect(w.calls.count).toBe(2);
  });

  it('a failed reading is not kept: the next call reads again', async () => {
    const w = world();
    w.failNext(true);
    await expect(w.read()).rejects.toThrow('throttled');
    w.failNext(false);
    expect((await w.read()).running).toBe(7);
    expect(w.calls.count).toBe(2);
  });
});
