/**
 * The local cloud's stand-in for an EventBridge schedule: the handler gets the event
 * EventBridge sends, runs don't pile up, and stopping waits for the run in progress.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSchedule } from '../../local/schedule.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A handler whose runs end when the test says so. */
const controlledHandler = () => {
  const events: ScheduledEvent[] = [];
  const finishers: (() => void)[] = [];
  const handler = (event: ScheduledEvent) => {
    events.push(event);
    return new Promise<void>((resolve) => finishers.push(resolve));
  };
  return { events, handler, finishNext: () => finishers.shift()?.() };
};

describe('the local schedule', () => {
  it('invokes the handler every interval with a Scheduled Event shaped as EventBridge sends it', async () => {
    const h = controlledHandler();
    const schedule = startSchedule({
      ruleName: 'sweep',
      region: 'us-east-1',
      intervalMs: 1_000,
      handler: h.handler,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(h.events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.events).toEqual([
      {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: new Date(Date.now()).toISOString(),
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/sweep'],
        detail: {},
      },
    ]);
    h.finishNext();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.events).toHaveLength(2);
    expect(h.events[1]?.id).not.toBe(h.events[0]?.id);
    h.finishNext();
    await schedule.stop();
  });

  it('skips a tick while a run is still going, and runs again once it ended', async () => {
    const h = controlledHandler();
    const schedule = startSchedule({
      ruleName: 'sweep',
      region: 'us-east-1',
      intervalMs: 1_000,
      handler: h.handler,
    });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(h.events).toHaveLength(1);
    h.finishNext();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.events).toHaveLength(2);
    h.finishNext();
    await schedule.stop();
  });

  it('hands a failed run to onError and keeps the schedule going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const schedule = startSchedule({
      ruleName: 'sweep',
      region: 'us-east-1',
      intervalMs: 1_000,
      handler: async () => {
        calls++;
        throw new Error('emulator gone');
      },
      onError: (error) => errors.push(error),
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(2);
    expect(errors).toEqual([new Error('emulator gone'), new Error('emulator gone')]);
    await schedule.stop();
  });

  it('stop ends the schedule and resolves only once the run in progress has ended', async () => {
    const h = controlledHandler();
    const schedule = startSchedule({
      ruleName: 'sweep',
      region: 'us-east-1',
      intervalMs: 1_000,
      handler: h.handler,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    let stopped = false;
    const stopping = schedule.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stopped).toBe(false);
    h.finishNext();
    await stopping;
    expect(stopped).toBe(true);
    expect(h.events).toHaveLength(1);
  });
});
