/**
 * One tenant's bombs against a shared fleet worker (a real worker process, DynamoDB Local,
 * the SQS and S3 emulators, Chromium): each ends on its first attempt with a clear code,
 * or succeeds with its page-decided fields bounded; another tenant's task on the same
 * worker, run while the bombs do, succeeds on its first attempt; and the worker's own
 * memory stays bounded (an evaluate of 200 MB used to grow it by ~570 MB, and each bomb
 * was retried up to maxAttempts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOMB_PAGES } from '../support/bomb-pages.js';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { type ApiResponse, apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** A process's peak RSS so far (VmHWM), in MB. */
const peakRssMb = (pid: number): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let worker: WorkerProcess;
let bomber: ReturnType<typeof apiClient>;
let victim: ReturnType<typeof apiClient>;

beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<html><body><h1 id="ok">fine</h1></body></html>',
    ...BOMB_PAGES,
    // A final URL of ~1 MB, one replaceState away.
    '/long-url': `<html><body><h1>long</h1><script>
      history.replaceState(null, '', '/long-url?' + 'q'.repeat(1024 * 1024));
    </script></body></html>`,
    // 80 sub-resources on a private address (refused by the egress guard), 8 KB URLs each.
    '/blocked': `<html><body><h1>blocked</h1><script>
      for (let i = 0; i < 80; i++) {
        const img = document.createElement('img');
        img.src = 'http://10.255.255.1/' + i + '/' + 'b'.repeat(8 * 1024);
        document.body.append(img);
      }
    </script></body></html>`,
  });
  cloud = await startTestCloud({ worker: false, lambdaTier: false, extraEnv: { ...FAST_ENGINE_ENV } });
  bomber = apiClient(cloud.url, (await createTestTenant(cloud, 'bomber')).key);
  victim = apiClient(cloud.url, (await createTestTenant(cloud, 'victim')).key);
  // Two task slots, as a fleet worker has by default: the bombs and the victim share it.
  worker = spawnWorker(cloud.env, 'shared', { WORKER_CONCURRENCY: '2' });
}, 120_000);
afterAll(async () => {
  worker?.kill('SIGKILL');
  await worker?.exited;
  await cloud?.dispose();
  await site?.close();
});

const fleet = (task: Record<string, unknown>) => ({ tier: 'fleet', maxAttempts: 3, ...task });
const ended = async (api: ReturnType<typeof apiClient>, res: ApiResponse): Promise<ApiResponse['body']> => {
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return (await api.waitForEnd(res.body.id, 120_000)).body;
};

describe("one tenant's bombs on a shared worker", () => {
  it('each ends on its first attempt (or is bounded), the other tenant succeeds beside them, and the worker stays small', async () => {
    // Warm: Chromium launched and the worker's own first-task memory paid before measuring.
    const warm = await ended(victim, await victim.submit(fleet({ type: 'content', url: `${site.url}/` })));
    expect(warm.status).toBe('succeeded');
    const pid = worker.child.pid as number;
    const before = peakRssMb(pid);

    const bombs = {
      evaluate: fleet({
        type: 'evaluate',
        url: `${site.url}/`,
        options: { script: '() => "x".repeat(200 * 1024 * 1024)' },
      }),
      content: fleet({ type: 'content', url: `${site.url}/huge` }),
      scrape: fleet({
        type: 'scrape',
        url: `${site.url}/nested`,
        options: { elements: [{ name: 'all', selector: '*', extract: 'html', all: true }] },
      }),
      links: fleet({ type: 'links', url: `${site.url}/links` }),
      thrown: fleet({
        type: 'evaluate',
        url: `${site.url}/`,
        options: { script: '() => { throw new Error("m".repeat(1024 * 1024)); }' },
      }),
      longUrl: fleet({ type: 'content', url: `${site.url}/long-url` }),
      blocked: fleet({ type: 'content', url: `${site.url}/blocked` }),
    };
    const names = Object.keys(bombs) as (keyof typeof bombs)[];
    const results: Record<string, ApiResponse['body']> = {};
    // The other tenant's task, queued among the bombs, so it runs beside one of them.
    const sent: [keyof typeof bombs, ApiResponse][] = [];
    let theirs: Promise<ApiResponse> | undefined;
    for (const [i, name] of names.entries()) {
      sent.push([name, await bomber.submit(bombs[name])]);
      if (i === 1) theirs = victim.submit(fleet({ type: 'content', url: `${site.url}/` }));
    }
    await Promise.all(
      sent.map(async ([name, res]) => {
        results[name] = await ended(bomber, res);
      }),
    );
    const other = await ended(victim, await (theirs as Promise<ApiResponse>));

    for (const name of ['evaluate', 'content', 'scrape', 'links'] as const) {
      expect(results[name], name).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'RESULT_TOO_LARGE' },
      });
    }
    expect(results.evaluate.error.message).toMatch(/cap of 256 KB/);
    expect(results.content.error.message).toMatch(/cap of 10 MB/);
    expect(results.thrown).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'SCRIPT_ERROR' } });
    expect(results.thrown.error.message.length).toBeLessThan(2_048);
    // Bounded, not failed: the row holds a cut URL and 50 of the refused requests, counted.
    expect(results.longUrl).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(results.longUrl.result.finalUrl).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/long-url\?q+…\[truncated, \d+ bytes\]$/,
    );
    expect(results.longUrl.result.finalUrl.length).toBeLessThanOrEqual(4_096);
    expect(results.blocked).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(results.blocked.result.blockedRequests).toHaveLength(50);
    expect(results.blocked.result.blockedRequestsTotal).toBe(80);
    for (const b of results.blocked.result.blockedRequests) expect(b.url.length).toBeLessThanOrEqual(512);

    // The other tenant: first attempt, succeeded, and it ran while a bomb did.
    expect(other).toMatchObject({ status: 'succeeded', attempts: 1 });
    const span = (t: { startedAt: string; endedAt: string }) => [
      Date.parse(t.startedAt),
      Date.parse(t.endedAt),
    ];
    const [oStart, oEnd] = span(other);
    expect(
      Object.values(results).some((b: { startedAt: string; endedAt: string }) => {
        const [bStart, bEnd] = span(b);
        return (bStart ?? 0) <= (oEnd ?? 0) && (oStart ?? 0) <= (bEnd ?? 0);
      }),
    ).toBe(true);

    const after = peakRssMb(pid);
    console.log(`tenant bombs: worker peak RSS before=${before.toFixed(0)}MB after=${after.toFixed(0)}MB`);
    // Was ~570 MB for the evaluate bomb alone, on each of its attempts.
    expect(after - before).toBeLessThan(150);
    expect(worker.child.exitCode).toBeNull();
  }, 300_000);
});
