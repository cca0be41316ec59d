import type { Task } from './task.js';

/** Ended tasks remembered per type and tier: enough for a quantile, few enough to follow a change of load. */
const REMEMBERED = 20;
/**
 * The quantile a held answer first reads at. Low, so that a task that ends sooner than
 * most is answered late by little (it ends before the first read one time in five); the
 * reads after it follow the task's end closely (wait-for-task.ts).
 */
const EARLY_QUANTILE = 0.2;

/** How long tasks of one kind took, as the low quantile of the recent ones. */
export interface ExpectedDurations {
  /** Submit → end (`createdAt` → `endedAt`), queueing included. */
  totalMs: number;
  /** Start of the run that ended → end (`startedAt` → `endedAt`). */
  runMs: number;
}

const lowQuantile = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(EARLY_QUANTILE * sorted.length)] ?? 0;
};

/**
 * What one process (a Lambda container, the local gateway) has seen of how long tasks take,
 * by type and tier, from the ended rows its held answers read. Only a schedule for reads:
 * the row stays the truth, and a wrong guess costs reads or a little lag, never an answer.
 */
export class TaskDurations {
  private readonly seen = new Map<string, { total: number[]; run: number[] }>();

  /** Learns from a task that succeeded (a failure's time says little about the next run). */
  record(task: Task): void {
    if (task.status !== 'succeeded' || task.startedAt === undefined || task.endedAt === undefined) return;
    if (task.cacheHit !== undefined) return;
    const ended = Date.parse(task.endedAt);
    const total = ended - Date.parse(task.createdAt);
    const run = ended - Date.parse(task.startedAt);
    if (!Number.isFinite(total) || !Number.isFinite(run) || total < 0 || run < 0) return;
    const key = `${task.type}\u0000${task.tier}`;
    const kind = this.seen.get(key) ?? { total: [], run: [] };
    kind.total.push(total);
    kind.run.push(run);
    if (kind.total.length > REMEMBERED) kind.total.shift();
    if (kind.run.length > REMEMBERED) kind.run.shift();
    this.seen.set(key, kind);
  }

  /** The low quantile of recent tasks of the same type and tier; `undefined` before any ended. */
  expected(task: Pick<Task, 'type' | 'tier'>): ExpectedDurations | undefined {
    const kind = this.seen.get(`${task.type}\u0000${task.tier}`);
    if (kind === undefined) return undefined;
    return { totalMs: lowQuantile(kind.total), runMs: lowQuantile(kind.run) };
  }
}
