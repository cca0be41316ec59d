/**
 * Row fields a page decides are bounded before the row is written (DynamoDB items max out
 * at 400 KB): a page-thrown error message, the final URL and blocked-request URLs are cut
 * with a marker that keeps their size, and the blocked requests beyond the listed ones are
 * counted. On the task engine with fakes: the row a 1 MB message or URL produces fits.
 */
import { describe, expect, it } from 'vitest';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { systemClock } from '../../shared/clock.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { ROW_FIELD_LIMITS, truncateUtf8 } from '../../shared/task/bounded-fields.js';
import type { BrowserOutput } from '../../shared/task/ports.js';
import { runTask } from '../../shared/task/run-task.js';
import { newTask } from '../../shared/task/task.js';
import { contentOptionsSchema } from '../../shared/task/task-input.js';
import { type Behaviour, FakeArtifacts, FakeBrowser, FakeQueue } from '../support/fakes.js';

const MB = 1024 * 1024;

describe('truncateUtf8', () => {
  it('keeps a value within the limit as it is', () => {
    expect(truncateUtf8('short', 10)).toBe('short');
  });
  it('cuts a longer one to the limit with a marker saying how long it was', () => {
    const cut = truncateUtf8('x'.repeat(MB), 2048);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(2048);
    expect(cut).toMatch(/^x+…\[truncated, 1048576 bytes\]$/);
  });
  it.each([1, 2, 3])('never cuts a character in two (offset %i)', (offset) => {
    const cut = truncateUtf8(`${'a'.repeat(offset)}${'€'.repeat(1000)}`, 100);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(100);
    expect(cut).not.toContain('\uFFFD');
  });
});

const rowFor = async (behaviour: Behaviour, maxAttempts = 1) => {
  const store = new MemoryTaskStore();
  const task = newTask({
    id: `t-${Math.random().toString(36).slice(2)}`,
    tenantId: 'ten',
    spec: { type: 'content', options: contentOptionsSchema.parse({}) },
    url: 'http://fixture.test/',
    maxAttempts,
    now: Date.now(),
  });
  await store.create(task);
  const outcome = await runTask(
    {
      store,
      queue: new FakeQueue(),
      artifacts: new FakeArtifacts(),
      resultCache: new MemoryResultCache(),
      browser: new FakeBrowser([behaviour]),
      clock: systemClock,
      workerId: 'w1',
      leaseMs: 1_000,
      heartbeatMs: 50,
      backoff: { baseMs: 1_000, capMs: 60_000 },
      random: () => 0.5,
      maxRunningTasks: async () => 100,
    },
    { taskId: task.id, ack: async () => {} },
  );
  const row = await store.get(task.id);
  return { outcome, row, bytes: Buffer.byteLength(JSON.stringify(row)) };
};

describe('a task row stays well inside 400 KB whatever the page did', () => {
  it('a 1 MB error message is cut on the row and on its attempt record, and not retried', async () => {
    const { outcome, row, bytes } = await rowFor(async () => {
      throw new BrowserfleetError(ERROR_CODES.SCRIPT_ERROR, `options.script threw: ${'m'.repeat(MB)}`);
    }, 3);
    expect(outcome.kind).toBe('failed');
    expect(row).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'SCRIPT_ERROR' } });
    expect(Buffer.byteLength(row?.error?.message ?? '')).toBeLessThanOrEqual(
      ROW_FIELD_LIMITS.errorMessageBytes,
    );
    expect(row?.error?.message).toMatch(/…\[truncated, \d+ bytes\]$/);
    expect(row?.history[0]?.error).toEqual(row?.error);
    expect(bytes).toBeLessThan(20 * 1024);
  });

  it('a retried error is cut too', async () => {
    const { row } = await rowFor(async () => {
      throw new BrowserfleetError(ERROR_CODES.NAVIGATION_FAILED, `net::ERR_FAILED at ${'u'.repeat(MB)}`, {
        retryable: true,
      });
    }, 3);
    expect(row?.status).toBe('queued');
    expect(Buffer.byteLength(row?.error?.message ?? '')).toBeLessThanOrEqual(
      ROW_FIELD_LIMITS.errorMessageBytes,
    );
  });

  it('a 1 MB final URL and 10,000 blocked requests of 100 KB URLs: cut, listed 50, counted all', async () => {
    const { outcome, row, bytes } = await rowFor(
      async (): Promise<BrowserOutput> => ({
        artifacts: [],
        finalUrl: `http://fixture.test/?${'q'.repeat(MB)}`,
        httpStatus: 200,
        timings: { launchMs: 0, navigationMs: 1, captureMs: 1 },
        browserMs: 2,
        blockedRequests: Array.from({ length: 10_000 }, (_, i) => ({
          url: `http://10.0.0.1/${i}/${'b'.repeat(100 * 1024)}`,
          reason: `private address ${'r'.repeat(1024)}`,
        })),
      }),
    );
    expect(outcome.kind).toBe('succeeded');
    const result = row?.result;
    expect(Buffer.byteLength(result?.finalUrl ?? '')).toBeLessThanOrEqual(ROW_FIELD_LIMITS.finalUrlBytes);
    expect(result?.finalUrl).toMatch(/^http:\/\/fixture\.test\/\?q+…\[truncated, 1048597 bytes\]$/);
    expect(result?.blockedRequests).toHaveLength(50);
    expect(result?.blockedRequestsTotal).toBe(10_000);
    for (const b of result?.blockedRequests ?? []) {
      expect(Buffer.byteLength(b.url)).toBeLessThanOrEqual(ROW_FIELD_LIMITS.blockedUrlBytes);
      expect(Buffer.byteLength(b.reason)).toBeLessThanOrEqual(ROW_FIELD_LIMITS.blockedReasonBytes);
    }
    expect(bytes).toBeLessThan(100 * 1024);
  });

  it('a few blocked requests are listed as they are, with no total', async () => {
    const { row } = await rowFor(
      async (): Promise<BrowserOutput> => ({
        artifacts: [],
        finalUrl: 'http://fixture.test/',
        httpStatus: 200,
        timings: { launchMs: 0, navigationMs: 1, captureMs: 1 },
        browserMs: 2,
        blockedRequests: [{ url: 'http://10.0.0.1/x', reason: 'private address' }],
      }),
    );
    expect(row?.result?.blockedRequests).toEqual([{ url: 'http://10.0.0.1/x', reason: 'private address' }]);
    expect(row?.result?.blockedRequestsTotal).toBeUndefined();
    expect(row?.result?.finalUrl).toBe('http://fixture.test/');
  });
});
