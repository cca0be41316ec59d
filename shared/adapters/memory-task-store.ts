import { KEYS } from '../contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { HistoryPage, HistoryRead, SaveOutcome, TaskStore, TaskUsage } from '../task/ports.js';
import { type SweepList, sweepDueAt, sweepListOf, type Task, usageDelta } from '../task/task.js';
import { queuedQuotaError } from '../tenancy/quota-errors.js';

/**
 * In-memory twin of the DynamoDB task store, for unit tests of the use cases. The contract
 * suite in `test/` runs against both, so it can't drift from the real one.
 */
export class MemoryTaskStore implements TaskStore {
  private readonly rows = new Map<string, Task>();
  private readonly counts = new Map<string, TaskUsage>();

  async create(task: Task, quota?: { maxQueued: number }): Promise<void> {
    if (this.rows.has(task.id)) {
      throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Task ${task.id} already exists.`);
    }
    const usage = this.usageNow(task.tenantId);
    if (quota !== undefined && usage.queuedTasks >= quota.maxQueued) throw queuedQuotaError(quota.maxQueued);
    this.rows.set(task.id, structuredClone(task));
    this.count(task.tenantId, undefined, task);
  }

  async get(id: string): Promise<Task | undefined> {
    const row = this.rows.get(id);
    return row === undefined ? undefined : structuredClone(row);
  }

  async save(next: Task, current: Task, quota?: { maxRunning: number }): Promise<SaveOutcome> {
    const row = this.rows.get(next.id);
    if (row === undefined || row.version !== current.version) {
      return { saved: false, current: row === undefined ? undefined : structuredClone(row) };
    }
    const delta = usageDelta(row.status, next.status);
    // No await between the version check and the write: the check and the write are atomic.
    const usage = this.usageNow(next.tenantId);
    if (quota !== undefined && delta.running > 0 && usage.runningTasks >= quota.maxRunning) {
      return { saved: false, quotaExceeded: 'maxRunningTasks' };
    }
    this.rows.set(next.id, structuredClone(next));
    this.count(next.tenantId, row, next);
    return { saved: true };
  }

  async listDue(status: SweepList, before: number, limit: number): Promise<Task[]> {
    return [...this.rows.values()]
      .filter((t) => sweepListOf(t) === status && (sweepDueAt(t) ?? Number.POSITIVE_INFINITY) < before)
      .sort((a, b) => (sweepDueAt(a) ?? 0) - (sweepDueAt(b) ?? 0))
      .slice(0, limit)
      .map((t) => structuredClone(t));
  }

  async listByTenant(tenantId: string, read: HistoryRead): Promise<HistoryPage> {
    const keyOf = (t: { createdAt: string; id: string }) => KEYS.taskHistorySk(t.createdAt, t.id);
    const after = read.after === undefined ? undefined : keyOf(read.after);
    const rows = [...this.rows.values()]
      .filter((t) => t.tenantId === tenantId)
      .filter((t) => (after === undefined || keyOf(t) < after) && (read.since ?? '') <= keyOf(t))
      .sort((a, b) => (keyOf(a) < keyOf(b) ? 1 : -1));
    const readRows = rows.slice(0, read.maxRows);
    const last = readRows[readRows.length - 1];
    return {
      tasks: readRows
        .filter(
          (t) =>
            (read.status === undefined || t.status === read.status) &&
            (read.type === undefined || t.type === read.type),
        )
        .map((t) => structuredClone(t)),
      ...(rows.length > readRows.length && last !== undefined
        ? { last: { createdAt: last.createdAt, id: last.id } }
        : {}),
    };
  }

  async usage(tenantId: string): Promise<TaskUsage> {
    return this.usageNow(tenantId);
  }

  private usageNow(tenantId: string): TaskUsage {
    return { ...(this.counts.get(tenantId) ?? { queuedTasks: 0, runningTasks: 0 }) };
  }

  private count(tenantId: string, from: Task | undefined, to: Task): void {
    const delta = usageDelta(from?.status, to.status);
    const usage = this.counts.get(tenantId) ?? { queuedTasks: 0, runningTasks: 0 };
    this.counts.set(tenantId, {
      queuedTasks: usage.queuedTasks + delta.queued,
      runningTasks: usage.runningTasks + delta.running,
    });
  }
}
