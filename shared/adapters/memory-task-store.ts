import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { SaveOutcome, TaskStore } from '../task/ports.js';
import { sweepDueAt, type Task } from '../task/task.js';

/**
 * In-memory twin of the DynamoDB task store, for unit tests of the use cases. The contract
 * suite in `test/` runs against both, so it can't drift from the real one.
 */
export class MemoryTaskStore implements TaskStore {
  private readonly rows = new Map<string, Task>();

  async create(task: Task): Promise<void> {
    if (this.rows.has(task.id)) {
      throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Task ${task.id} already exists.`);
    }
    this.rows.set(task.id, structuredClone(task));
  }

  async get(id: string): Promise<Task | undefined> {
    const row = this.rows.get(id);
    return row === undefined ? undefined : structuredClone(row);
  }

  async save(next: Task, expectedVersion: number): Promise<SaveOutcome> {
    const current = this.rows.get(next.id);
    if (current === undefined || current.version !== expectedVersion) {
      return { saved: false, current: current === undefined ? undefined : structuredClone(current) };
    }
    this.rows.set(next.id, structuredClone(next));
    return { saved: true };
  }

  async listDue(status: 'queued' | 'running', before: number, limit: number): Promise<Task[]> {
    return [...this.rows.values()]
      .filter((t) => t.status === status && (sweepDueAt(t) ?? Number.POSITIVE_INFINITY) < before)
      .sort((a, b) => (sweepDueAt(a) ?? 0) - (sweepDueAt(b) ?? 0))
      .slice(0, limit)
      .map((t) => structuredClone(t));
  }
}
