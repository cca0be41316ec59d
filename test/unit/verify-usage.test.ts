/**
 * `admin usage verify`: usage counters against a recount of the rows, believing a
 * difference only when it holds still, and mending it with `fix` only over the counters it
 * compared.
 */
import { describe, expect, it } from 'vitest';
import type { UsageCounts, UsageLedger } from '../../shared/tenancy/ports.js';
import { verifyUsage } from '../../shared/tenancy/verify-usage.js';

const u = (queuedTasks: number, runningTasks: number, liveSessions: number): UsageCounts => ({
  queuedTasks,
  runningTasks,
  liveSessions,
});

/** A ledger whose answers come from `counters` and `recounts` in turn (the last one repeats). */
const ledger = (
  counters: Record<string, UsageCounts>[],
  recounts: Record<string, UsageCounts>[],
  correctAnswer = true,
) => {
  const corrections: [string, UsageCounts, UsageCounts][] = [];
  const next = <T>(list: T[]): T => (list.length > 1 ? (list.shift() as T) : (list[0] as T));
  const only = (all: Record<string, UsageCounts>, tenantId?: string) =>
    new Map(Object.entries(all).filter(([t]) => tenantId === undefined || t === tenantId));
  const l: UsageLedger = {
    counters: async (tenantId) => only(next(counters), tenantId),
    recount: async (tenantId) => only(next(recounts), tenantId),
    correct: async (tenantId, from, to) => {
      corrections.push([tenantId, from, to]);
      return correctAnswer;
    },
  };
  return { ledger: l, corrections };
};

const sleeps: number[] = [];
const deps = (l: UsageLedger) => ({ ledger: l, sleep: async (ms: number) => void sleeps.push(ms) });

describe('verify usage', () => {
  it('counters equal to the rows are exact, every tenant at once', async () => {
    const { ledger: l } = ledger([{ a: u(1, 2, 0), b: u(0, 0, 3) }], [{ a: u(1, 2, 0), b: u(0, 0, 3) }]);
    const report = await verifyUsage(deps(l));
    expect(report.exact).toBe(true);
    expect(report.tenants.map((t) => [t.tenantId, t.status])).toEqual([
      ['a', 'exact'],
      ['b', 'exact'],
    ]);
  });

  it('a difference that holds on a second look is a mismatch, field by field; a tenant with rows and no counters is one too', async () => {
    const { ledger: l } = ledger([{ a: u(0, 1, 0) }], [{ a: u(0, 0, 0), b: u(1, 0, 0) }]);
    sleeps.length = 0;
    const report = await verifyUsage(deps(l), { settleMs: 250 });
    expect(report.exact).toBe(false);
    expect(report.tenants).toEqual([
      {
        tenantId: 'a',
        status: 'mismatch',
        counters: u(0, 1, 0),
        recount: u(0, 0, 0),
        differences: [{ field: 'runningTasks', counter: 1, recount: 0 }],
      },
      {
        tenantId: 'b',
        status: 'mismatch',
        counters: u(0, 0, 0),
        recount: u(1, 0, 0),
        differences: [{ field: 'queuedTasks', counter: 0, recount: 1 }],
      },
    ]);
    expect(sleeps).toEqual([250]);
  });

  it('a difference gone on the second look (the index lagged) is exact', async () => {
    const { ledger: l } = ledger([{ a: u(0, 1, 0) }], [{ a: u(0, 0, 0) }, { a: u(0, 1, 0) }]);
    expect(await verifyUsage(deps(l), { tenantId: 'a' })).toMatchObject({
      exact: true,
      tenants: [{ tenantId: 'a', status: 'exact' }],
    });
  });

  it('counters that move while the rows are counted are busy, not a mismatch', async () => {
    const moving = Array.from({ length: 10 }, (_, i) => ({ a: u(i, 0, 0) }));
    const { ledger: l, corrections } = ledger(moving, [{ a: u(0, 0, 0) }]);
    const report = await verifyUsage(deps(l), { passes: 3, fix: true });
    expect(report).toMatchObject({ exact: false, tenants: [{ tenantId: 'a', status: 'busy' }] });
    expect(corrections).toEqual([]);
  });

  it('fix sets a mismatch to the recount, over the counters it compared; counters that moved since stay as they are', async () => {
    const drifted = ledger([{ a: u(2, 1, 1) }], [{ a: u(2, 0, 1) }]);
    expect(await verifyUsage(deps(drifted.ledger), { fix: true })).toMatchObject({
      exact: true,
      tenants: [{ tenantId: 'a', status: 'fixed', differences: [{ field: 'runningTasks' }] }],
    });
    expect(drifted.corrections).toEqual([['a', u(2, 1, 1), u(2, 0, 1)]]);

    const raced = ledger([{ a: u(2, 1, 1) }], [{ a: u(2, 0, 1) }], false);
    expect(await verifyUsage(deps(raced.ledger), { fix: true })).toMatchObject({
      exact: false,
      tenants: [{ tenantId: 'a', status: 'busy' }],
    });
  });

  it('a tenant asked for by name is checked even with no counters and no rows', async () => {
    const { ledger: l } = ledger([{}], [{}]);
    expect(await verifyUsage(deps(l), { tenantId: 'nobody' })).toMatchObject({
      exact: true,
      tenants: [{ tenantId: 'nobody', status: 'exact', counters: u(0, 0, 0) }],
    });
  });
});
