/**
 * Task history (`GET /v1/tasks`) and batch submit (`POST /v1/tasks/batch`) end to end,
 * through the real client and the real CLI (as a process) against the local cloud (real
 * gateway, handlers, IAM front, DynamoDB Local and its task-history index). No worker runs:
 * tasks stay queued unless cancelled, so each status a test asserts is one it made.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchItemResult,
  type BatchTaskRequest,
  type BrowserfleetClient,
  createClient,
  type TaskView,
  ValidationError,
} from '../../ops/client/index.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

const BIN = join(import.meta.dirname, '../../ops/bin/browserfleet.mjs');
/** Allowed by the test cloud's egress policy (127.0.0.1); no worker will ever fetch it. */
const PAGE = 'http://127.0.0.1:9/page';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let keyA: string;
let a: BrowserfleetClient;
let b: BrowserfleetClient;
/** Tenant A's tasks, newest first, as the history should answer them. */
let history: TaskView[];

const clientFor = (apiKey: string) => createClient({ baseUrl: cloud.url, apiKey, maxAttempts: 1 });
const byNewest = (tasks: TaskView[]) =>
  [...tasks].sort((x, y) => `${y.createdAt}#${y.id}`.localeCompare(`${x.createdAt}#${x.id}`));
const ids = (tasks: readonly { id: string }[]) => tasks.map((t) => t.id);
const all = async (iterable: AsyncIterable<TaskView>) => {
  const out: TaskView[] = [];
  for await (const task of iterable) out.push(task);
  return out;
};
const TYPES = ['screenshot', 'links', 'content'] as const;

beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false });
  keyA = (await createTestTenant(cloud, 'history-a')).key;
  a = clientFor(keyA);
  b = clientFor((await createTestTenant(cloud, 'history-b')).key);
  // Two batches, so history spans requests: 9 + 8 tasks of three types.
  const made: TaskView[] = [];
  for (const [from, count] of [
    [0, 9],
    [9, 8],
  ] as const) {
    const results = await a.tasks.batch(
      Array.from(
        { length: count },
        (_, i) => ({ type: TYPES[(from + i) % 3], url: `${PAGE}?n=${from + i}` }) as BatchTaskRequest,
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(count).fill(202));
    made.push(...results.map((r) => r.task as TaskView));
  }
  // Two cancelled, the rest queued.
  for (const task of [made[2], made[11]] as TaskView[]) await a.tasks.cancel(task.id);
  history = byNewest(
    await Promise.all(made.map(async (t) => ({ ...t, status: (await a.tasks.get(t.id)).status }))),
  );
});
afterAll(async () => {
  await cloud?.dispose();
});

describe('GET /v1/tasks through the client', () => {
  it('answers newest first, page after page, without gaps or repeats', async () => {
    const first = await a.tasks.list({ limit: 5 });
    expect(ids(first.tasks)).toEqual(ids(history.slice(0, 5)));
    expect(first.tasks[0]).toMatchObject({
      status: history[0]?.status,
      type: history[0]?.type,
      url: history[0]?.url,
    });
    expect(first.nextCursor).toEqual(expect.any(String));
    const pages = [first];
    while (pages.at(-1)?.nextCursor !== undefined) {
      pages.push(await a.tasks.list({ limit: 5, cursor: pages.at(-1)?.nextCursor as string }));
    }
    expect(pages.map((p) => p.tasks.length)).toEqual([5, 5, 5, 2]);
    expect(ids(pages.flatMap((p) => p.tasks))).toEqual(ids(history));
    // The default page is 20: all 17, and no cursor.
    const whole = await a.tasks.list();
    expect(ids(whole.tasks)).toEqual(ids(history));
    expect(whole.nextCursor).toBeUndefined();
    expect(ids(await all(a.tasks.listAll({ limit: 4 })))).toEqual(ids(history));
  });

  it('filters by status, type and since, and still pages', async () => {
    const cancelled = await a.tasks.list({ status: 'cancelled' });
    expect(ids(cancelled.tasks)).toEqual(ids(history.filter((t) => t.status === 'cancelled')));
    expect(cancelled.tasks).toHaveLength(2);
    const links = await all(a.tasks.listAll({ type: 'links', limit: 2 }));
    expect(ids(links)).toEqual(ids(history.filter((t) => t.type === 'links')));
    const queuedLinks = await a.tasks.list({ type: 'links', status: 'queued' });
    expect(ids(queuedLinks.tasks)).toEqual(
      ids(history.filter((t) => t.type === 'links' && t.status === 'queued')),
    );
    const pivot = history[6] as TaskView;
    const since = await all(a.tasks.listAll({ since: pivot.createdAt, limit: 3 }));
    expect(ids(since)).toEqual(ids(history.filter((t) => t.createdAt >= pivot.createdAt)));
    expect(since.length).toBeGreaterThanOrEqual(7);
  });

  it("another tenant sees none of them, and can't page into them with their cursor", async () => {
    expect(await b.tasks.list()).toEqual({ tasks: [] });
    const cursor = (await a.tasks.list({ limit: 3 })).nextCursor as string;
    expect(await b.tasks.list({ cursor })).toEqual({ tasks: [] });
  });

  it('an edited (well-formed) cursor only moves within the tenant’s own history, like since', async () => {
    const pivot = history[9] as TaskView;
    // A position this API never gave out: just after the pivot's creation, an id that sorts first.
    const forged = Buffer.from(JSON.stringify({ v: 1, c: pivot.createdAt, i: 'z' })).toString('base64url');
    const after = await all(
      (async function* () {
        let cursor: string | undefined = forged;
        do {
          const page = await a.tasks.list({ limit: 4, cursor });
          yield* page.tasks;
          cursor = page.nextCursor;
        } while (cursor !== undefined);
      })(),
    );
    expect(ids(after)).toEqual(
      ids(
        history.filter(
          (t) => t.createdAt < pivot.createdAt || (t.createdAt === pivot.createdAt && t.id < 'z'),
        ),
      ),
    );
    // Older than since: nothing left, not an error.
    expect(
      await a.tasks.list({
        cursor: forged,
        since: new Date(Date.parse(pivot.createdAt) + 60_000).toISOString(),
      }),
    ).toEqual({ tasks: [] });
  });

  it('refuses bad parameters with 400 VALIDATION_FAILED naming the field', async () => {
    const refusal = async (query: Record<string, string | number>) => {
      const error = await a.tasks.list(query as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      return (error as ValidationError).message;
    };
    expect(await refusal({ limit: 0 })).toMatch(/limit: must be at least 1/);
    expect(await refusal({ limit: 101 })).toMatch(/limit: must be at most 100/);
    expect(await refusal({ status: 'done' })).toMatch(/status: must be one of/);
    expect(await refusal({ type: 'video' })).toMatch(/type: must be one of/);
    expect(await refusal({ since: 'yesterday' })).toMatch(/since: must be an ISO 8601 time/);
    expect(await refusal({ cursor: 'bm90LWEtY3Vyc29y' })).toMatch(/cursor: /);
    const good = (await a.tasks.list({ limit: 3 })).nextCursor as string;
    expect(await refusal({ cursor: `${good.slice(0, -3)}AAA` })).toMatch(/cursor: /);
    expect(await refusal({ order: 'asc' })).toMatch(/order: is not a recognized field/);
  });
});

describe('POST /v1/tasks/batch through the client', () => {
  it('answers each item; a bad one fails only itself', async () => {
    const results = await b.tasks.batch([
      { type: 'screenshot', url: PAGE },
      { type: 'screenshot' } as never,
      { type: 'links', url: 'http://169.254.169.254/latest/meta-data/' },
      { type: 'content', url: PAGE },
    ]);
    expect(results.map((r) => [r.index, r.status, r.error?.code])).toEqual([
      [0, 202, undefined],
      [1, 400, 'VALIDATION_FAILED'],
      [2, 400, 'DESTINATION_BLOCKED'],
      [3, 202, undefined],
    ]);
    expect(results[1]?.error?.message).toMatch(/^url: /);
    const listed = await b.tasks.list();
    expect(ids(listed.tasks).sort()).toEqual([results[0]?.task?.id, results[3]?.task?.id].sort());
  });

  it('a repeated batch answers the same tasks and makes no duplicates', async () => {
    const items = [0, 1, 2].map((n) => ({
      type: 'links' as const,
      url: `${PAGE}?again=${n}`,
      idempotencyKey: `again-${n}`,
    }));
    const before = (await all(b.tasks.listAll({ limit: 100 }))).length;
    const first = await b.tasks.batch(items);
    const again = await b.tasks.batch(items);
    expect(ids(again.map((r) => r.task as TaskView))).toEqual(ids(first.map((r) => r.task as TaskView)));
    expect(again.map((r) => r.replayed)).toEqual([true, true, true]);
    expect((await all(b.tasks.listAll({ limit: 100 }))).length).toBe(before + 3);
  });

  it('refuses more than 100 tasks, or tasks that are not an array, with 400 naming tasks', async () => {
    const error = await b.tasks
      .batch(Array.from({ length: 101 }, (_, n) => ({ type: 'links' as const, url: `${PAGE}?n=${n}` })))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((error as Error).message).toMatch(/tasks: must hold at most 100 tasks/);
    const raw = await fetch(`${cloud.url}/v1/tasks/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: { type: 'links', url: PAGE } }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toMatch(/^tasks: /);
  });

  it('spends one token per item: once the bucket is empty, the rest of the batch answers 429', async () => {
    const limited = clientFor(
      (await createTestTenant(cloud, 'history-limited', { burst: 4, requestsPerSecond: 0.001 })).key,
    );
    const results: BatchItemResult[] = await limited.tasks.batch(
      Array.from({ length: 6 }, (_, n) => ({ type: 'links' as const, url: `${PAGE}?limited=${n}` })),
    );
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 429, 429]);
    expect(results[5]?.error?.code).toBe('RATE_LIMITED');
    const error = await limited.tasks.list().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
const cli = (args: string[]): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: keyA }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        }),
    );
  });

describe('browserfleet tasks list', () => {
  it('prints a table newest first and the cursor of the next page, which --cursor follows', async () => {
    const first = await cli(['tasks', 'list', '--limit', '4']);
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+STATUS\s+CREATED\s+URL$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[0])).toEqual(ids(history.slice(0, 4)));
    expect(lines[1]).toContain(history[0]?.status);
    const more = /^More: run again with --cursor (\S+)$/.exec(lines[5] ?? '');
    expect(more).not.toBeNull();
    const second = await cli(['--json', 'tasks', 'list', '--limit', '4', '--cursor', more?.[1] as string]);
    expect(second.code).toBe(0);
    expect(ids(JSON.parse(second.stdout).tasks)).toEqual(ids(history.slice(4, 8)));
  });

  it('--all --json prints every matching task, one per line', async () => {
    const ran = await cli(['--json', 'tasks', 'list', '--all', '--limit', '2', '--type', 'content']);
    expect(ran.code).toBe(0);
    const lines = ran.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as TaskView);
    expect(ids(lines)).toEqual(ids(history.filter((t) => t.type === 'content')));
    const human = await cli(['tasks', 'list', '--all', '--status', 'cancelled', '--limit', '1']);
    expect(human.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(human.stdout).not.toMatch(/More:/);
  });

  it('has --help', async () => {
    const help = await cli(['tasks', 'list', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: browserfleet tasks list/);
    for (const flag of ['--status', '--type', '--since', '--limit', '--cursor', '--all'])
      expect(help.stdout).toContain(flag);
  });

  it('a refused query exits 3 naming the field; a wrong flag exits 2', async () => {
    const bad = await cli(['tasks', 'list', '--cursor', 'garbage']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/VALIDATION_FAILED: cursor: /);
    const since = await cli(['--json', 'tasks', 'list', '--since', '12/01/2026']);
    expect(since.code).toBe(3);
    expect(JSON.parse(since.stderr).error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await cli(['tasks', 'list', '--limit', 'many'])).code).toBe(2);
  });
});
