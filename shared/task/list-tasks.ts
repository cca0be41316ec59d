/**
 * A tenant's task history (`GET /v1/tasks`): newest first, a page at a time, from the
 * tenant's own partition of the task-history index (one query per read, never a scan).
 */
import { z } from 'zod';
import { parseOrThrow } from '../validation.js';
import { decodeHistoryCursor, encodeHistoryCursor } from './history-cursor.js';
import type { HistoryPosition, TaskStore } from './ports.js';
import { TASK_STATUSES, type Task } from './task.js';
import { TASK_TYPES } from './task-input.js';

export const LIST_TASKS_LIMITS = { defaultLimit: 20, maxLimit: 100 } as const;

/**
 * Rows one filtered read takes, and the most one request reads in all: a filter that
 * matches little answers a short (even empty) page with a `nextCursor` rather than reading
 * the tenant's whole history in one request.
 */
export const HISTORY_READS = { filteredPageRows: 100, maxRowsPerRequest: 1_000 } as const;

/** The query string of `GET /v1/tasks`, every parameter optional. */
export const listTasksQuerySchema = z.strictObject({
  status: z.enum(TASK_STATUSES, { error: `must be one of ${TASK_STATUSES.join(', ')}` }).optional(),
  type: z.enum(TASK_TYPES, { error: `must be one of ${TASK_TYPES.join(', ')}` }).optional(),
  /** Tasks created at or after this time: ISO 8601 with a zone (`Z` or `±hh:mm`). */
  since: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z' })
    .transform((value) => new Date(value).toISOString())
    .optional(),
  limit: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(LIST_TASKS_LIMITS.maxLimit, `must be at most ${LIST_TASKS_LIMITS.maxLimit}`)
    .default(LIST_TASKS_LIMITS.defaultLimit),
  cursor: z.string().optional(),
});

export type ListTasksQuery = z.output<typeof listTasksQuerySchema>;

export interface TaskPage {
  tasks: Task[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

const positionOf = (task: Task): HistoryPosition => ({ createdAt: task.createdAt, id: task.id });

/**
 * One page of the tenant's tasks. Reads until it has one task more than `limit` (so a
 * `nextCursor` always leads somewhere), the history ends, or the read bound is reached.
 * The cursor is the last task answered (or the last row read, at the bound), so pages
 * follow one another without gaps or repeats whatever the filters.
 */
export const listTasks = async (
  deps: { store: TaskStore },
  input: { tenantId: string; query: unknown },
): Promise<TaskPage> => {
  const query = parseOrThrow(listTasksQuerySchema, input.query);
  let after = query.cursor === undefined ? undefined : decodeHistoryCursor(query.cursor);
  const { since, status, type, limit } = query;
  // A cursor older than `since` (the client added the filter between pages): nothing is
  // left, and the index would refuse a start key outside the key condition.
  if (after !== undefined && since !== undefined && after.createdAt < since) return { tasks: [] };
  const filtered = status !== undefined || type !== undefined;
  const found: Task[] = [];
  let rowsRead = 0;
  for (;;) {
    const maxRows = filtered ? HISTORY_READS.filteredPageRows : limit + 1 - found.length;
    const page = await deps.store.listByTenant(input.tenantId, {
      maxRows,
      ...(after === undefined ? {} : { after }),
      ...(since === undefined ? {} : { since }),
      ...(status === undefined ? {} : { status }),
      ...(type === undefined ? {} : { type }),
    });
    rowsRead += maxRows;
    found.push(...page.tasks);
    if (found.length > limit) {
      const tasks = found.slice(0, limit);
      return { tasks, nextCursor: encodeHistoryCursor(positionOf(tasks[limit - 1] as Task)) };
    }
    if (page.last === undefined) return { tasks: found };
    after = page.last;
    if (rowsRead >= HISTORY_READS.maxRowsPerRequest) {
      return { tasks: found, nextCursor: encodeHistoryCursor(after) };
    }
  }
};
