/**
 * The MCP tools on memory twins: how a task's outcome becomes tool content (inline image or
 * link, pages of text, failures the model reads), tenancy, and what a session tool hands
 * the worker. The real SDK, gateway and Chromium are test/e2e/mcp.test.ts's.
 */
import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore } from '../../shared/adapters/memory-idempotency-store.js';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { MCP_TOOLS, type McpCaller, type McpDeps, runTool } from '../../shared/agents/mcp-tools.js';
import { INLINE_IMAGE_MAX_BYTES } from '../../shared/agents/tool-output.js';
import { BrowserfleetError } from '../../shared/errors.js';
import { applyEvent } from '../../shared/task/apply-event.js';
import { resultCacheKey } from '../../shared/task/result-cache.js';
import { newTask, type Task, type TaskResult } from '../../shared/task/task.js';
import { createTaskInputSchema } from '../../shared/task/task-input.js';
import { fakeClock } from '../support/fake-clock.js';
import { FakeArtifacts, FakeQueue } from '../support/fakes.js';

const caller: McpCaller = {
  tenantId: 'tenant-a',
  maxQueuedTasks: 10,
  maxLiveSessions: 2,
  httpBaseUrl: 'http://127.0.0.1:3000',
};
const tool = (name: string) => {
  const found = MCP_TOOLS.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no tool ${name}`);
  return found;
};

const world = () => {
  const clock = fakeClock();
  const store = new MemoryTaskStore();
  const artifacts = new FakeArtifacts();
  const commands: unknown[] = [];
  let answer: Awaited<ReturnType<McpDeps['runCommand']>> | Error = { ok: true, result: {} };
  const resultCache = new MemoryResultCache();
  const queue = new FakeQueue();
  let ids = 0;
  const deps = {
    store,
    artifacts,
    resultCache,
    tenantWebhooks: async () => undefined,
    queue,
    idempotency: new MemoryIdempotencyStore(),
    idempotencyTtlSeconds: 3_600,
    newId: () => `01SUBMIT${String(++ids).padStart(18, '0')}`,
    checkDestination: async () => ({
      allowed: true,
      host: 'example.test',
      port: 443,
      addresses: ['203.0.113.9'],
    }),
    reader: artifacts,
    artifactUrlTtlSeconds: 600,
    clock,
    runCommand: async (input: unknown) => {
      commands.push(input);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    download: async () => new Uint8Array(),
  } as unknown as McpDeps;
  /** A task of `type` for `tenantId`, ended as `end` says. */
  const taskOf = async (
    type: 'screenshot' | 'markdown' | 'scrape',
    end: { result: TaskResult } | { error: { code: string; message: string } } | 'queued',
    tenantId = caller.tenantId,
  ): Promise<Task> => {
    const input = createTaskInputSchema.parse({
      type,
      url: 'https://example.test/',
      ...(type === 'scrape' ? { options: { elements: [{ name: 'h', selector: 'h1' }] } } : {}),
    });
    const task = newTask({
      id: `01TASK${String(Math.random()).slice(2, 12).padEnd(20, '0')}`,
      tenantId,
      spec: input,
      url: input.url,
      now: clock.now(),
    });
    await store.create(task);
    if (end === 'queued') return task;
    const claimed = await applyEvent(store, task, { kind: 'claim', owner: 'w', leaseMs: 30_000 }, clock.now);
    if (!claimed.ok) throw new Error(claimed.reason);
    const event =
      'result' in end
        ? ({ kind: 'succeed', leaseToken: claimed.task.leaseToken, result: end.result } as const)
        : ({ kind: 'fail', leaseToken: claimed.task.leaseToken, error: end.error } as const);
    const done = await applyEvent(store, claimed.task, event, clock.now);
    if (!done.ok) throw new Error(done.reason);
    return done.task;
  };
  return {
    deps,
    artifacts,
    resultCache,
    queue,
    clock,
    commands,
    taskOf,
    answer: (next: typeof answer) => {
      answer = next;
    },
  };
};

const result = (deps: McpDeps, name: string, args: Record<string, unknown>) =>
  runTool(deps, caller, tool(name), tool(name).input.parse(args) as Record<string, unknown>);

const stored = async (artifacts: FakeArtifacts, key: string, bytes: number, contentType: string) => {
  await artifacts.put(key, new Uint8Array(bytes).fill(7), contentType);
  return { name: key.split('/').pop() ?? key, contentType, size: bytes, key };
};

describe('the result cache through a one-shot tool', () => {
  it('with cacheTTL, a fresh result of the same request answers at once: the image, no run', async () => {
    const w = world();
    const png = await stored(w.artifacts, 'tasks/source/1/screenshot.png', 1_000, 'image/png');
    const input = createTaskInputSchema.parse({ type: 'screenshot', url: 'https://example.test/' });
    await w.resultCache.record({
      tenantId: caller.tenantId,
      key: resultCacheKey({ type: 'screenshot', options: input.options, url: input.url } as never),
      sourceTaskId: 'source',
      result: { artifacts: [png], finalUrl: 'https://example.test/', httpStatus: 200 },
      endedAtMs: w.clock.now() - 1_000,
      expiresAtMs: w.clock.now() + 59_000,
    });
    const answer = await result(w.deps, 'screenshot', { url: 'https://example.test/', cacheTTL: 60 });
    expect(answer.content.map((c) => c.type)).toEqual(['image', 'resource_link']);
    expect(answer.structuredContent).toMatchObject({
      status: 'succeeded',
      browserMs: 0,
      cache: { hit: true, sourceTaskId: 'source' },
    });
    expect(w.queue.sent).toEqual([]);
    expect(() =>
      tool('screenshot').input.parse({ url: 'https://example.test/', cacheTTL: 86_401 }),
    ).toThrow();
  });
});

describe('a task as tool content', () => {
  it('a screenshot up to the inline size is an image with a link; a bigger one only a link', async () => {
    const w = world();
    const small = await stored(w.artifacts, 'tasks/s/1/screenshot.png', 1_000, 'image/png');
    const big = await stored(
      w.artifacts,
      'tasks/b/1/screenshot.png',
      INLINE_IMAGE_MAX_BYTES + 1,
      'image/png',
    );
    const inline = await result(w.deps, 'task_result', {
      taskId: (await w.taskOf('screenshot', { result: { artifacts: [small] } })).id,
    });
    expect(inline.content.map((c) => c.type)).toEqual(['image', 'resource_link']);
    expect(Buffer.from((inline.content[0] as { data: string }).data, 'base64').length).toBe(1_000);
    const linked = await result(w.deps, 'task_result', {
      taskId: (await w.taskOf('screenshot', { result: { artifacts: [big] } })).id,
    });
    expect(linked.content).toEqual([
      expect.objectContaining({
        type: 'resource_link',
        mimeType: 'image/png',
        size: INLINE_IMAGE_MAX_BYTES + 1,
      }),
    ]);
  });

  it('text pages within maxChars, from the inline data or the artifact; JSON one value per line', async () => {
    const w = world();
    const markdown = await w.taskOf('markdown', { result: { artifacts: [], data: 'x'.repeat(500) } });
    const first = await result(w.deps, 'task_result', { taskId: markdown.id, maxChars: 200 });
    expect(first.structuredContent).toMatchObject({ totalChars: 500, nextCursor: expect.any(String) });
    const second = await result(w.deps, 'task_result', {
      taskId: markdown.id,
      maxChars: 200,
      cursor: first.structuredContent?.nextCursor,
    });
    expect((second.content[0] as { text: string }).text).toMatch(
      /^x{200}\n\[characters 200–400 of 500; more: /,
    );

    const json = new TextEncoder().encode(JSON.stringify({ h: ['one', 'two'] }));
    await w.artifacts.put('tasks/j/1/result.json', json, 'application/json');
    const scrape = await w.taskOf('scrape', {
      result: {
        artifacts: [
          {
            name: 'result.json',
            contentType: 'application/json',
            size: json.length,
            key: 'tasks/j/1/result.json',
          },
        ],
      },
    });
    const answer = await result(w.deps, 'task_result', { taskId: scrape.id });
    expect((answer.content[0] as { text: string }).text).toBe(JSON.stringify({ h: ['one', 'two'] }, null, 1));
  });

  it('a failed task is an error the model reads; a queued one names itself for later', async () => {
    const w = world();
    const failed = await w.taskOf('markdown', {
      error: { code: 'NAVIGATION_FAILED', message: 'net::ERR_NAME' },
    });
    expect(await result(w.deps, 'task_result', { taskId: failed.id })).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'NAVIGATION_FAILED: net::ERR_NAME' }],
    });
    const queued = await w.taskOf('markdown', 'queued');
    const waiting = await result(w.deps, 'task_result', { taskId: queued.id });
    expect(waiting.isError).toBeUndefined();
    expect(waiting.structuredContent).toMatchObject({ taskId: queued.id, status: 'queued' });
  });

  it("another tenant's task is NOT_FOUND, as a missing one", async () => {
    const w = world();
    const theirs = await w.taskOf('markdown', { result: { artifacts: [], data: 'secret' } }, 'tenant-b');
    for (const taskId of [theirs.id, '01MISSING00000000000000000']) {
      expect(await result(w.deps, 'task_result', { taskId })).toMatchObject({
        isError: true,
        content: [{ text: `NOT_FOUND: Task ${taskId} does not exist.` }],
      });
    }
  });
});

describe('session tools', () => {
  it('send the command its own params (defaults filled), without the tool-only fields or unset ones', async () => {
    const w = world();
    await result(w.deps, 'browser_tabs', { sessionId: 's1', action: 'open', url: 'https://example.test/' });
    await result(w.deps, 'browser_click', { sessionId: 's1', ref: 'e3', timeoutMs: 2_000 });
    expect(w.commands).toEqual([
      {
        tenantId: 'tenant-a',
        sessionId: 's1',
        method: 'tabs',
        params: { action: 'open', url: 'https://example.test/' },
        timeoutMs: 15_000,
      },
      {
        tenantId: 'tenant-a',
        sessionId: 's1',
        method: 'click',
        params: { ref: 'e3', clickCount: 1 },
        timeoutMs: 2_000,
      },
    ]);
  });

  it("a command's failure and a refused call both come back as errors the model reads", async () => {
    const w = world();
    w.answer({ ok: false, error: { code: 'STALE_REF', message: 'Ref e3 is gone.' } });
    expect(await result(w.deps, 'browser_click', { sessionId: 's1', ref: 'e3' })).toMatchObject({
      isError: true,
      content: [{ text: 'STALE_REF: Ref e3 is gone.' }],
    });
    w.answer(new BrowserfleetError('SESSION_NOT_LIVE', 'Session s1 is not live.'));
    expect(await result(w.deps, 'browser_reload', { sessionId: 's1' })).toMatchObject({
      isError: true,
      content: [{ text: 'SESSION_NOT_LIVE: Session s1 is not live.' }],
    });
    w.answer(new Error('a bug'));
    await expect(result(w.deps, 'browser_reload', { sessionId: 's1' })).rejects.toThrow('a bug');
  });

  it('bound timeoutMs to what fits API Gateway', () => {
    expect(
      tool('browser_navigate').input.safeParse({ sessionId: 's', url: 'https://x.test/', timeoutMs: 16_000 })
        .success,
    ).toBe(false);
  });
});
