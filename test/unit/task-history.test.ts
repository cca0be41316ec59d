/**
 * Task history's pure parts: the cursor codec, the query's validation, and `listTasks`
 * paging through the in-memory store (the same contract the DynamoDB adapter meets,
 * test/integration/task-store.contract.test.ts): newest first, no gaps or repeats across
 * pages, filters that still fill pages, a bound on the rows one request reads.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { isBrowserfleetError } from '../../shared/errors.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { decodeHistoryCursor, encodeHistoryCursor } from '../../shared/task/history-cursor.js';
import { HISTORY_READS, listTasks } from '../../shared/task/list-tasks.js';
import type { HistoryRead, TaskStore } from '../../shared/task/ports.js';
import { newTask, type Task, type TaskStatus } from '../../shared/task/task.js';
import { linksOptionsSchema, screenshotOptionsSchema } from '../../shared/task/task-input.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');

const makeTask = (tenantId: string, at: number, type: 'screenshot' | 'links', status: TaskStatus): Task => ({
  ...newTask({
    id: newTimeOrderedId(at),
    tenantId,
    spec:
      type === 'screenshot'
        ? { type, options: screenshotOptionsSchema.parse({}) }
        : { type, options: linksOptionsSchema.parse({}) },
    url: 'http://fixture.test/',
    now: at,
  }),
  status,
});

/** A store holding `count` tasks of `tenantId`, one a second from T0; some share a millisecond. */
const seeded = async (count: number, shape: (i: number) => Pick<Task, 'type' | 'status'>) => {
  const store = new MemoryTaskStore();
  const tasks: Task[] = [];
  for (let i = 0; i < count; i++) {
    // Every third task shares its millisecond with the one before: the id breaks the tie.
    const at = T0 + Math.floor(i - (i % 3 === 2 ? 1 : 0)) * 1000;
    const { type, status } = shape(i);
    const task = makeTask('tenant-a', at, type as 'screenshot' | 'links', status);
    await store.create(task);
    tasks.push(task);
  }
  await store.create(makeTask('tenant-b', T0 + 500, 'screenshot', 'queued'));
  const newestFirst = [...tasks].sort((a, b) =>
    `${b.createdAt}#${b.id}`.localeCompare(`${a.createdAt}#${a.id}`),
  );
  return { store, newestFirst };
};

/** Every page, following nextCursor to the end. */
const allPages = async (store: TaskStore, query: Record<string, string>) => {
  const pages: Task[][] = [];
  let cursor: string | undefined;
  do {
    const page = await listTasks(
      { store },
      { tenantId: 'tenant-a', query: { ...query, ...(cursor === undefined ? {} : { cursor }) } },
    );
    pages.push(page.tasks);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
};

const fieldOf = async (promise: Promise<unknown>): Promise<string[]> => {
  try {
    await promise;
  } catch (error) {
    if (isBrowserfleetError(error) && error.code === 'VALIDATION_FAILED') {
      return ((error.details?.issues ?? []) as { field: string }[]).map((issue) => issue.field);
    }
    throw error;
  }
  throw new Error('expected VALIDATION_FAILED');
};

describe('history cursor', () => {
  it('round-trips a position and is base64url (safe in a query string as it is)', () => {
    const at = { createdAt: '2026-06-01T00:00:01.234Z', id: newTimeOrderedId(T0) };
    const cursor = encodeHistoryCursor(at);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeHistoryCursor(cursor)).toEqual(at);
  });

  it('refuses anything it did not write, naming cursor', () => {
    const good = encodeHistoryCursor({ createdAt: '2026-06-01T00:00:01.234Z', id: 'abc' });
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad = [
      '',
      'not a cursor!',
      `${good}x`,
      good.slice(0, -2),
      `${good}==`,
      'a'.repeat(300),
      Buffer.from('{not json').toString('base64url'),
      b64({ v: 2, c: '2026-06-01T00:00:01.234Z', i: 'abc' }),
      b64({ v: 1, c: '2026-06-01', i: 'abc' }),
      b64({ v: 1, c: '2026-06-01T00:00:01.234+00:00', i: 'abc' }),
      b64({ v: 1, c: '2026-06-01T00:00:01.234Z', i: 'a#b' }),
      b64({ v: 1, c: '2026-06-01T00:00:01.234Z', i: 'abc', tenant: 'tenant-b' }),
      b64({ i: 'abc', c: '2026-06-01T00:00:01.234Z', v: 1 }),
      b64(['2026-06-01T00:00:01.234Z', 'abc']),
    ];
    for (const cursor of bad) {
      expect(() => decodeHistoryCursor(cursor), cursor).toThrow(/^cursor: /);
    }
  });
});

describe('GET /v1/tasks query', () => {
  it('names each bad parameter and its rule', async () => {
    const store = new MemoryTaskStore();
    const list = (query: Record<string, string>) => listTasks({ store }, { tenantId: 'tenant-a', query });
    expect(await fieldOf(list({ limit: '0' }))).toEqual(['limit']);
    expect(await fieldOf(list({ limit: '101' }))).toEqual(['limit']);
    expect(await fieldOf(list({ limit: 'ten' }))).toEqual(['limit']);
    expect(await fieldOf(list({ limit: '2.5' }))).toEqual(['limit']);
    expect(await fieldOf(list({ status: 'done' }))).toEqual(['status']);
    expect(await fieldOf(list({ type: 'video' }))).toEqual(['type']);
    expect(await fieldOf(list({ since: 'yesterday' }))).toEqual(['since']);
    expect(await fieldOf(list({ since: '1764633600000' }))).toEqual(['since']);
    expect(await fieldOf(list({ cursor: 'nope' }))).toEqual(['cursor']);
    expect(await fieldOf(list({ order: 'asc' }))).toEqual(['order']);
    await expect(list({ limit: '101' })).rejects.toThrow('limit: must be at most 100');
    await expect(list({ status: 'done' })).rejects.toThrow(/status: must be one of queued, running/);
  });
});

describe('listTasks on the memory store', () => {
  it('pages through newest first without gaps or repeats, and only the tenant’s own', async () => {
    const { store, newestFirst } = await seeded(23, () => ({ type: 'screenshot', status: 'queued' }));
    const pages = await allPages(store, { limit: '5' });
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat().map((t) => t.id)).toEqual(newestFirst.map((t) => t.id));
    // An exact multiple of the limit ends without a cursor to an empty page.
    const exact = await allPages(store, { limit: '23' });
    expect(exact.map((p) => p.length)).toEqual([23]);
    // The default page is 20.
    expect((await allPages(store, {}))[0]).toHaveLength(20);
  });

  it('filters by status and type and still fills pages', async () => {
    const shape = (i: number) => ({
      type: i % 2 === 0 ? ('links' as const) : ('screenshot' as const),
      status: i % 5 === 0 ? ('failed' as const) : ('succeeded' as const),
    });
    const { store, newestFirst } = await seeded(40, shape);
    const failedLinks = newestFirst.filter((t) => t.status === 'failed' && t.type === 'links');
    const pages = await allPages(store, { status: 'failed', type: 'links', limit: '2' });
    expect(pages.flat().map((t) => t.id)).toEqual(failedLinks.map((t) => t.id));
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    const screenshots = await allPages(store, { type: 'screenshot', limit: '7' });
    expect(screenshots.flat().map((t) => t.id)).toEqual(
      newestFirst.filter((t) => t.type === 'screenshot').map((t) => t.id),
    );
    expect(screenshots[0]).toHaveLength(7);
  });

  it('since is inclusive, and a cursor older than since answers an empty last page', async () => {
    const { store, newestFirst } = await seeded(10, () => ({ type: 'screenshot', status: 'queued' }));
    const pivot = newestFirst[4] as Task;
    const since = new Date(Date.parse(pivot.createdAt)).toISOString();
    const pages = await allPages(store, { since, limit: '3' });
    expect(pages.flat().map((t) => t.id)).toEqual(
      newestFirst.filter((t) => t.createdAt >= pivot.createdAt).map((t) => t.id),
    );
    // A zone offset means the same instant.
    const offset = since.replace('T00:', 'T02:').replace('Z', '+02:00');
    expect((await allPages(store, { since: offset, limit: '3' })).flat()).toEqual(pages.flat());
    const oldest = newestFirst[9] as Task;
    const cursor = encodeHistoryCursor({ createdAt: oldest.createdAt, id: oldest.id });
    expect(await listTasks({ store }, { tenantId: 'tenant-a', query: { since, cursor } })).toEqual({
      tasks: [],
    });
  });

  it('a filter that matches little reads at most the bound per request, with a cursor to go on', async () => {
    const count = HISTORY_READS.maxRowsPerRequest + 150;
    // Only the oldest task matches.
    const { store, newestFirst } = await seeded(count, (i) => ({
      type: 'screenshot',
      status: i === 0 ? 'failed' : 'succeeded',
    }));
    const reads: HistoryRead[] = [];
    const counting: TaskStore = Object.assign(Object.create(store) as TaskStore, {
      listByTenant: (tenantId: string, read: HistoryRead) => {
        reads.push(read);
        return store.listByTenant(tenantId, read);
      },
    });
    const first = await listTasks({ store: counting }, { tenantId: 'tenant-a', query: { status: 'failed' } });
    expect(first.tasks).toEqual([]);
    expect(first.nextCursor).toBeDefined();
    expect(reads.reduce((n, r) => n + r.maxRows, 0)).toBe(HISTORY_READS.maxRowsPerRequest);
    const second = await listTasks(
      { store: counting },
      { tenantId: 'tenant-a', query: { status: 'failed', cursor: first.nextCursor } },
    );
    expect(second.tasks.map((t) => t.id)).toEqual([newestFirst[count - 1]?.id]);
    expect(second.nextCursor).toBeUndefined();
  });

  it('another tenant sees none of them', async () => {
    const { store } = await seeded(5, () => ({ type: 'screenshot', status: 'queued' }));
    const other = await listTasks({ store }, { tenantId: 'tenant-c', query: {} });
    expect(other).toEqual({ tasks: [] });
  });
});
