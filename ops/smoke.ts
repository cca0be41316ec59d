/**
 * `npm run smoke -- --url <HttpApiUrl> --key <key> [--target <page url>]`: a first deploy's
 * check, through the public API only (as a client would): the health check, one task of
 * each type, and a live session driven over CDP with puppeteer-core and over Playwright's
 * own protocol with playwright-core (`playwrightUrl`). Prints a pass/fail table and exits 1
 * if anything failed. The tests run the same function against the local cloud
 * (test/e2e/smoke.test.ts).
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

export interface SmokeOptions {
  /** The HTTP API's base URL (the `HttpApiUrl` output, or the local cloud's). */
  url: string;
  key: string;
  /** The page every check loads; must be reachable from the platform's browsers. */
  target: string;
  /** How long a task or a session start may take (a cold Fargate task starts in minutes). */
  timeoutMs?: number;
}

export interface SmokeRow {
  check: string;
  ok: boolean;
  ms: number;
  detail: string;
}

/** One task of each type, each with what it must return to pass. */
const TASKS: { type: string; options?: Record<string, unknown>; expect: (result: unknown) => boolean }[] = [
  { type: 'screenshot', expect: (r) => JSON.stringify(r).includes('url') },
  { type: 'pdf', expect: (r) => JSON.stringify(r).includes('url') },
  { type: 'content', expect: (r) => JSON.stringify(r).length > 2 },
  { type: 'markdown', expect: (r) => JSON.stringify(r).length > 2 },
  { type: 'links', expect: (r) => r !== undefined },
  {
    type: 'scrape',
    options: { elements: [{ name: 'title', selector: 'title' }] },
    expect: (r) => JSON.stringify(r).includes('title'),
  },
  { type: 'evaluate', options: { script: '() => document.title' }, expect: (r) => r !== undefined },
];

type Json = Record<string, unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const runSmoke = async (options: SmokeOptions): Promise<SmokeRow[]> => {
  const base = options.url.replace(/\/$/, '');
  const timeoutMs = options.timeoutMs ?? 180_000;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(40_000),
    });
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as Json);
    } catch {
      parsed = { raw: text.slice(0, 200) };
    }
    return { status: res.status, body: parsed };
  };
  const rows: SmokeRow[] = [];
  const check = async (name: string, run: () => Promise<string>) => {
    const started = Date.now();
    try {
      const detail = await run();
      rows.push({ check: name, ok: true, ms: Date.now() - started, detail });
    } catch (error) {
      rows.push({ check: name, ok: false, ms: Date.now() - started, detail: (error as Error).message });
    }
  };

  await check('GET /health', async () => {
    const res = await call('GET', '/health');
    if (res.status !== 200) throw new Error(`status ${res.status}: ${JSON.stringify(res.body)}`);
    return String(res.body.status ?? 'ok');
  });

  // The tasks at once: each waits up to 20 s in the call, then is polled.
  await Promise.all(
    TASKS.map((task) =>
      check(`task ${task.type}`, async () => {
        const res = await call('POST', '/v1/tasks?wait=20', {
          type: task.type,
          url: options.target,
          ...(task.options === undefined ? {} : { options: task.options }),
        });
        if (res.status !== 200 && res.status !== 202) {
          throw new Error(`status ${res.status}: ${JSON.stringify(res.body.error ?? res.body)}`);
        }
        let body = res.body;
        const deadline = Date.now() + timeoutMs;
        while (body.status === 'queued' || body.status === 'running') {
          if (Date.now() > deadline) throw new Error(`still ${String(body.status)} after ${timeoutMs} ms`);
          await sleep(1_000);
          body = (await call('GET', `/v1/tasks/${String(body.id)}?wait=20`)).body;
        }
        if (body.status !== 'succeeded')
          throw new Error(`${String(body.status)}: ${JSON.stringify(body.error)}`);
        if (!task.expect(body.result))
          throw new Error(`unexpected result ${JSON.stringify(body.result).slice(0, 120)}`);
        return `succeeded on ${String(body.tier ?? 'its tier')}`;
      }),
    ),
  );

  await check('live session over CDP', async () => {
    const created = await call('POST', '/v1/sessions', {});
    if (created.status !== 201)
      throw new Error(`create: status ${created.status}: ${JSON.stringify(created.body)}`);
    const id = String(created.body.id);
    try {
      let session = created.body;
      const deadline = Date.now() + timeoutMs;
      while (session.status !== 'live') {
        if (session.status !== 'pending' && session.status !== 'starting') {
          throw new Error(`session ${String(session.status)}: ${JSON.stringify(session.endReason)}`);
        }
        if (Date.now() > deadline)
          throw new Error(`session still ${String(session.status)} after ${timeoutMs} ms`);
        await sleep(500);
        session = (await call('GET', `/v1/sessions/${id}`)).body;
      }
      const browser = await puppeteer.connect({
        browserWSEndpoint: String(session.cdpUrl),
        defaultViewport: null,
        protocolTimeout: 30_000,
      });
      let cdpTitle: string;
      try {
        const [page = await browser.newPage()] = await browser.pages();
        await page.goto(options.target, { waitUntil: 'load', timeout: 30_000 });
        cdpTitle = await page.title();
      } finally {
        await browser.disconnect();
      }
      // The same session over Playwright's own protocol (this playwright-core's minor).
      const pw = await chromium.connect(String(session.playwrightUrl), { timeout: 30_000 });
      try {
        const page = pw.contexts()[0]?.pages()[0] ?? (await pw.newPage());
        await page.goto(options.target, { waitUntil: 'load', timeout: 30_000 });
        const title = await page.title();
        return `cdp: navigated, title ${JSON.stringify(cdpTitle)}; playwright: title ${JSON.stringify(title)}`;
      } finally {
        await pw.close();
      }
    } finally {
      await call('DELETE', `/v1/sessions/${id}`);
    }
  });
  return rows;
};

/** The table as text: one line per check. */
export const formatSmoke = (rows: SmokeRow[]): string => {
  const width = Math.max(...rows.map((r) => r.check.length), 5);
  const lines = rows.map(
    (r) => `${r.ok ? 'PASS' : 'FAIL'}  ${r.check.padEnd(width)}  ${String(r.ms).padStart(6)} ms  ${r.detail}`,
  );
  const failed = rows.filter((r) => !r.ok).length;
  return [
    ...lines,
    '',
    failed === 0 ? `all ${rows.length} checks passed` : `${failed} of ${rows.length} failed`,
  ].join('\n');
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      target: { type: 'string', default: 'https://example.com/' },
      timeout: { type: 'string', default: '180000' },
    },
  });
  if (values.url === undefined || values.key === undefined) {
    console.error('usage: npm run smoke -- --url <HttpApiUrl> --key <api key> [--target <page url>]');
    process.exit(2);
  }
  const rows = await runSmoke({
    url: values.url,
    key: values.key,
    target: values.target,
    timeoutMs: Number(values.timeout),
  });
  console.log(formatSmoke(rows));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
};

if (import.meta.url === `file://${process.argv[1]}`) await main();
