/**
 * `npm run smoke` against the local cloud: the script a first deploy is checked with
 * passes against `npm start`'s platform, so a failure on AWS points at the deployment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSmoke, runSmoke } from '../../ops/smoke.js';
import { type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: FixtureServer;

beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<!doctype html><title>smoke</title><h1>browserfleet smoke</h1><a href="/a">a</a>',
  });
  cloud = await startTestCloud();
}, 120_000);

afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

describe('npm run smoke', () => {
  it('passes every check against the local cloud: health, each task type, a session over CDP', async () => {
    const rows = await runSmoke({
      url: cloud.url,
      key: TEST_API_KEY,
      target: `${site.url}/`,
      timeoutMs: 60_000,
    });
    const table = formatSmoke(rows);
    expect(rows.map((r) => r.check).sort()).toEqual(
      [
        'GET /health',
        'task screenshot',
        'task pdf',
        'task content',
        'task markdown',
        'task links',
        'task scrape',
        'task evaluate',
        'live session over CDP',
      ].sort(),
    );
    expect(
      rows.filter((r) => !r.ok),
      table,
    ).toEqual([]);
    expect(rows.find((r) => r.check === 'live session over CDP')?.detail).toContain('"smoke"');
    expect(rows.find((r) => r.check === 'live session over CDP')?.detail).toContain(
      'playwright: title "smoke"',
    );
    expect(table).toContain(`all ${rows.length} checks passed`);
  }, 180_000);

  it('reports a failure as a FAIL row rather than throwing (a wrong key)', async () => {
    const rows = await runSmoke({
      url: cloud.url,
      key: 'bf_wrong_key_0000000000',
      target: `${site.url}/`,
      timeoutMs: 5_000,
    });
    expect(rows.find((r) => r.check === 'GET /health')?.ok).toBe(true);
    expect(
      rows.filter((r) => r.check.startsWith('task ')).every((r) => !r.ok && r.detail.includes('401')),
    ).toBe(true);
    expect(formatSmoke(rows)).toMatch(/FAIL {2}task screenshot/);
  }, 60_000);
});
