/**
 * The result cache end to end on the local cloud (real gateway and handlers, DynamoDB Local,
 * the S3 emulator, both runner tiers with real Chromium, every AWS call judged by the
 * synthesized IAM policies), driven through the typed client and the CLI as a process: a
 * repeat is answered at once from the first run's artifact (the page is fetched once), and
 * nothing is shared across tenants, with `cacheTTL: 0`, or across different options.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserfleetClient, createClient, ValidationError } from '../../ops/client/index.js';
import { apiClient, type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

const BIN = join(import.meta.dirname, '../../ops/bin/browserfleet.mjs');
const PAGE = '<html><body style="margin:0;background:#36c"><h1>cache me</h1></body></html>';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: FixtureServer;
let alpha: { key: string; client: BrowserfleetClient };
let beta: { key: string; client: BrowserfleetClient };
let dir: string;
/** Requests the fixture server saw, by path. */
const seen = new Map<string, number>();
const hits = (path: string) => seen.get(path) ?? 0;

beforeAll(async () => {
  site = await startFixtureServer(
    { '/shared': PAGE, '/tenants': PAGE, '/off': PAGE, '/options': PAGE, '/cli': PAGE },
    (req) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.set(path, hits(path) + 1);
    },
  );
  cloud = await startTestCloud();
  const tenant = async (id: string) => {
    const { key } = await createTestTenant(cloud, id);
    return { key, client: createClient({ baseUrl: cloud.url, apiKey: key }) };
  };
  alpha = await tenant('cache-alpha');
  beta = await tenant('cache-beta');
  dir = mkdtempSync(join(tmpdir(), 'bf-cache-'));
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const bytesOf = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
};

describe('the result cache through the client', () => {
  it('answers an identical submit at once from the first result: no browser, the same artifact', async () => {
    const url = `${site.url}/shared`;
    const request = {
      type: 'screenshot' as const,
      url,
      cacheTTL: 600,
      tier: 'fleet' as const,
      options: { viewport: { width: 400, height: 300 } },
    };
    const first = await alpha.client.tasks.run(request);
    expect(first.task).toMatchObject({ status: 'succeeded', cacheTTL: 600, cache: { hit: false } });
    expect(first.task.result?.browserMs).toBeGreaterThan(0);
    expect(hits('/shared')).toBe(1);

    // The same request spelled otherwise: a lone `#`, options in another order, a default
    // written out, another tier. Submitted without waiting: a hit is already final.
    const hit = await alpha.client.tasks.submit({
      ...request,
      url: `${url}#`,
      tier: 'lambda',
      options: { format: 'png', viewport: { height: 300, width: 400 } },
    });
    expect(hit).toMatchObject({
      status: 'succeeded',
      attempts: 0,
      history: [],
      cacheTTL: 600,
      cache: { hit: true, sourceTaskId: first.task.id },
      result: { browserMs: 0, finalUrl: first.task.result?.finalUrl, httpStatus: 200 },
    });
    expect(hit.id).not.toBe(first.task.id);
    const endedAt = Date.parse(first.task.endedAt ?? '');
    if (hit.cache?.hit !== true) throw new Error('expected a hit');
    expect(Date.parse(hit.cache.expiresAt)).toBe(endedAt + 600_000);
    // By reference: the source's object, presigned afresh for this reader.
    const artifact = hit.result?.artifacts[0];
    expect(artifact?.url).toContain(`tasks/${first.task.id}/`);
    expect(artifact?.size).toBe(first.body?.length);
    const shared = await bytesOf(artifact?.url ?? '');
    expect(Buffer.from(shared).equals(Buffer.from(first.body ?? []))).toBe(true);
    expect(pngSize(shared)).toEqual({ width: 400, height: 300 });
    expect(hits('/shared')).toBe(1);

    // Read back later, it is the same ended task; it can't be cancelled.
    expect(await alpha.client.tasks.get(hit.id)).toMatchObject({
      status: 'succeeded',
      cache: { hit: true, sourceTaskId: first.task.id },
    });
    const cancel = await apiClient(cloud.url, alpha.key).call('DELETE', `/v1/tasks/${hit.id}`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe('TASK_ALREADY_ENDED');
  });

  it("a tenant's entry never answers another tenant: the other runs its own browser", async () => {
    const request = { type: 'screenshot' as const, url: `${site.url}/tenants`, cacheTTL: 600 };
    const mine = await alpha.client.tasks.run(request);
    expect(mine.task.cache).toEqual({ hit: false });
    const theirs = await beta.client.tasks.run(request);
    expect(theirs.task).toMatchObject({ status: 'succeeded', cache: { hit: false } });
    expect(theirs.task.result?.browserMs).toBeGreaterThan(0);
    expect(theirs.task.result?.artifacts[0]?.url).toContain(`tasks/${theirs.task.id}/`);
    expect(hits('/tenants')).toBe(2);
    // Each tenant hits its own entry (the Lambda tier recorded beta's).
    const again = await beta.client.tasks.submit(request);
    expect(again.cache).toEqual(expect.objectContaining({ hit: true, sourceTaskId: theirs.task.id }));
    expect(hits('/tenants')).toBe(2);
  });

  it('cacheTTL 0 never hits (nor is a hit recorded from it); different options miss', async () => {
    const off = { type: 'content' as const, url: `${site.url}/off` };
    const a = await alpha.client.tasks.run({ ...off, cacheTTL: 0 });
    expect(a.task.status).toBe('succeeded');
    expect(a.task.cache).toBeUndefined();
    expect(a.task.cacheTTL).toBeUndefined();
    const b = await alpha.client.tasks.run({ ...off, cacheTTL: 600 });
    expect(b.task.cache).toEqual({ hit: false });
    const c = await alpha.client.tasks.run(off);
    expect(c.task.cache).toBeUndefined();
    expect(c.task.result?.browserMs).toBeGreaterThan(0);
    expect(hits('/off')).toBe(3);

    const shot = { type: 'screenshot' as const, url: `${site.url}/options`, cacheTTL: 600 };
    await alpha.client.tasks.run({ ...shot, options: { viewport: { width: 300, height: 200 } } });
    const other = await alpha.client.tasks.run({
      ...shot,
      options: { viewport: { width: 320, height: 200 } },
    });
    expect(other.task.cache).toEqual({ hit: false });
    expect(pngSize(other.body ?? new Uint8Array())).toEqual({ width: 320, height: 200 });
    expect(hits('/options')).toBe(2);
  });

  it('refuses a bad cacheTTL with 400 VALIDATION_FAILED naming the field and the rule', async () => {
    const url = `${site.url}/shared`;
    for (const [cacheTTL, rule] of [
      [86_401, 'cacheTTL: must be at most 86400 (one day)'],
      [-1, 'cacheTTL: must be at least 0 (0 turns the cache off)'],
      [2.5, 'cacheTTL: must be a whole number of seconds'],
      ['60', 'cacheTTL: must be a whole number of seconds'],
    ] as const) {
      const refused = await alpha.client.tasks.submit({ type: 'screenshot', url, cacheTTL } as never).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused, String(cacheTTL)).toBeInstanceOf(ValidationError);
      expect(refused).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect((refused as Error).message).toContain(rule);
    }
    const inOptions = await apiClient(cloud.url, alpha.key).submit({
      type: 'screenshot',
      url,
      options: { cacheTTL: 60 },
    });
    expect(inOptions.status).toBe(400);
    expect(inOptions.body.error.message).toContain('options.cacheTTL: is not a recognized field');
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
      {
        env: { ...process.env, BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: alpha.key },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
  });

describe('the result cache through the CLI', () => {
  it('--cache-ttl: the second run is a hit, said so in human output, with the same bytes', async () => {
    const url = `${site.url}/cli`;
    const firstFile = join(dir, 'first.png');
    const first = await cli([
      'screenshot',
      url,
      '-o',
      firstFile,
      '--viewport',
      '360x240',
      '--cache-ttl',
      '300',
    ]);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(/first\.png \(\d+ bytes\) from task \S+\n$/);
    const sourceId = /from task (\S+)/.exec(first.stdout)?.[1];

    const secondFile = join(dir, 'second.png');
    const second = await cli([
      'screenshot',
      url,
      '-o',
      secondFile,
      '--viewport',
      '360x240',
      '--cache-ttl',
      '300',
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(`second\\.png \\(\\d+ bytes\\) from task \\S+: cached result of task ${sourceId} \\(until `),
    );
    expect(readFileSync(secondFile).equals(readFileSync(firstFile))).toBe(true);
    expect(hits('/cli')).toBe(1);

    const json = await cli([
      '--json',
      'screenshot',
      url,
      '-o',
      join(dir, 'third.png'),
      '--viewport',
      '360x240',
      '--cache-ttl',
      '300',
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'succeeded',
      cache: { hit: true, sourceTaskId: sourceId },
      result: { browserMs: 0 },
    });
    const human = await cli(['tasks', 'get', JSON.parse(json.stdout).id]);
    expect(human.stdout).toMatch(new RegExp(`^cache\\s+cached result of task ${sourceId} `, 'm'));
    expect(hits('/cli')).toBe(1);

    const tooLong = await cli(['screenshot', url, '--cache-ttl', '86401']);
    expect(tooLong.code).toBe(3);
    expect(tooLong.stderr).toContain('cacheTTL: must be at most 86400');
    expect((await cli(['screenshot', url, '--cache-ttl', 'soon'])).code).toBe(2);
  });
});
