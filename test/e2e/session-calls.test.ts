/**
 * Session commands called in one request, as the MCP server calls them: `callSessionCommand`
 * over the real session store and the worker's real inbox (signed HTTP calls), against a live
 * session's real Chromium in the local cloud. An agent reads the page as a snapshot, acts by
 * its refs, and is told clearly when a ref is stale; a big page comes in pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { HttpSessionInbox } from '../../shared/adapters/http-session-inbox.js';
import { systemClock } from '../../shared/clock.js';
import { ENV } from '../../shared/contracts.js';
import type { CommandOutcome } from '../../shared/session/ports.js';
import { callSessionCommand, type SessionCallDeps } from '../../shared/session/session-calls.js';
import { CachedTicketKeys, fixedTicketSecret } from '../../shared/session/ticket-keys.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

const PAGE = `<!doctype html><html><head><title>Agent fixture</title></head><body>
<h1 id="h">before</h1>
<button id="b" onclick="document.getElementById('h').textContent='clicked'">Press me</button>
<label for="name">Name</label><input id="name" value="old">
<label for="color">Colour</label>
<select id="color"><option value="r">Red</option><option value="g">Green</option></select>
<p id="later"></p>
<button id="hover" onmouseover="this.dataset.hovered = 'yes'">Hover me</button>
<button id="gone" onclick="this.remove()">Vanish</button>
<script>
  document.getElementById('color').addEventListener('change', (e) => {
    setTimeout(() => { document.getElementById('later').textContent = 'picked ' + e.target.value; }, 200);
  });
</script>
</body></html>`;

/** More lines than a snapshot reads: 3,000 items of two lines each. */
const BIG = `<!doctype html><title>Big</title><ul>${Array.from(
  { length: 3_000 },
  (_, i) => `<li><a href="#${i}">Item ${i}</a></li>`,
).join('')}</ul>`;

const TENANT = 'calls-tenant';
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let fixtures: FixtureServer;
let disposeClients: () => void;
let deps: SessionCallDeps;
let sessionId: string;

beforeAll(async () => {
  fixtures = await startFixtureServer({
    '/': PAGE,
    '/big': BIG,
    '/two': '<title>Two</title><button>Other</button>',
  });
  cloud = await startTestCloud({ lambdaTier: false });
  const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  disposeClients = () => destroyAwsClients(clients);
  const secret = cloud.env[ENV.sessionTicketSecret] ?? '';
  deps = {
    sessions: new DynamoDbSessionStore(clients.dynamo, cloud.names.stateTable),
    inbox: new HttpSessionInbox(new CachedTicketKeys(fixedTicketSecret(secret), systemClock)),
  };
  const { key } = await createTestTenant(cloud, TENANT);
  const api = apiClient(cloud.url, key);
  const created = await api.call('POST', '/v1/sessions', {
    body: JSON.stringify({ viewport: { width: 800, height: 600 } }),
    headers: { 'content-type': 'application/json' },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  sessionId = created.body.id;
  // The HTTP API has no wait for sessions: poll until its Chromium is up.
  const deadline = Date.now() + 45_000;
  for (;;) {
    const res = await api.call('GET', `/v1/sessions/${sessionId}`);
    if (res.body.status === 'live') break;
    if (Date.now() > deadline) throw new Error(`session still ${res.body.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}, 90_000);
afterAll(async () => {
  disposeClients?.();
  await cloud?.dispose();
  await fixtures?.close();
});

const call = (method: string, params: Record<string, unknown> = {}, timeoutMs?: number) =>
  callSessionCommand(deps, {
    tenantId: TENANT,
    sessionId,
    method,
    params,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });

/** The result of a command that must succeed. */
const ok = async (method: string, params: Record<string, unknown> = {}, timeoutMs?: number) => {
  const outcome: CommandOutcome = await call(method, params, timeoutMs);
  if (!outcome.ok) throw new Error(`${method} failed: ${outcome.error.code} ${outcome.error.message}`);
  // biome-ignore lint/suspicious/noExplicitAny: results are JSON the test reads by field.
  return outcome.result as any;
};

const refOf = (text: string, line: RegExp): string => {
  const match = new RegExp(`${line.source} \\[ref=(e\\d+)\\]`).exec(text);
  if (match === null) throw new Error(`no ${line} in\n${text}`);
  return match[1] as string;
};

const evaluate = async (expression: string) => (await ok('evaluate', { expression })).value;

describe('session commands over inbox calls, on real Chromium', () => {
  it('snapshot → click, fill, select by ref → wait for text; refs stay, stale ones say so', async () => {
    expect(await ok('navigate', { url: `${fixtures.url}/` })).toEqual({
      url: `${fixtures.url}/`,
      status: 200,
    });
    const first = await ok('snapshot');
    expect(first).toMatchObject({ url: `${fixtures.url}/`, title: 'Agent fixture' });
    expect(first.text).toMatch(/^- heading "before" \[level=1\] \[ref=e\d+\]$/m);
    expect(first.text).toMatch(/^- button "Press me" \[ref=e\d+\]$/m);
    expect(first.text).toMatch(/^- textbox "Name" \[ref=e\d+\]: "old"$/m);
    expect(first.text).toMatch(/^ {2}- option "Green" \[ref=e\d+\]$/m);
    expect(first.totalChars).toBe(first.text.length);
    expect(first.nextCursor).toBeUndefined();
    const button = refOf(first.text, /- button "Press me"/);

    await ok('click', { ref: button });
    expect(await evaluate("document.getElementById('h').textContent")).toBe('clicked');

    await ok('fill', { ref: refOf(first.text, /- textbox "Name"/), value: 'Ada Lovelace' });
    expect(await evaluate("document.getElementById('name').value")).toBe('Ada Lovelace');
    await ok('type', { ref: refOf(first.text, /- textbox "Name"/), text: '!' });
    expect(await evaluate("document.getElementById('name').value")).toBe('Ada Lovelace!');
    await ok('hover', { ref: refOf(first.text, /- button "Hover me"/) });
    expect(await evaluate("document.getElementById('hover').dataset.hovered")).toBe('yes');
    expect(await ok('select', { ref: refOf(first.text, /- combobox "Colour"/), values: ['Green'] })).toEqual({
      selected: ['g'],
    });
    expect(await ok('wait', { text: 'picked g' })).toEqual({ url: `${fixtures.url}/` });

    // The same elements keep their refs in a later snapshot, which shows what changed.
    const second = await ok('snapshot');
    expect(refOf(second.text, /- button "Press me"/)).toBe(button);
    expect(second.text).toMatch(/^- textbox "Name" \[ref=e\d+\]: "Ada Lovelace!"$/m);
    expect(second.text).toMatch(/^- paragraph \[ref=e\d+\]: "picked g"$/m);

    // A removed element's ref, and a ref after the page navigated, answer STALE_REF.
    const vanish = refOf(second.text, /- button "Vanish"/);
    await ok('click', { ref: vanish });
    const removed = await call('click', { ref: vanish });
    expect(removed).toMatchObject({ ok: false, error: { code: 'STALE_REF' } });
    await ok('navigate', { url: `${fixtures.url}/two` });
    const navigated = await call('click', { ref: button });
    expect(navigated).toMatchObject({ ok: false, error: { code: 'STALE_REF' } });
    if (navigated.ok) throw new Error('unreachable');
    expect(navigated.error.message).toMatch(/take a new snapshot/);
    // Refs are never reused: the new page's button is not the old one's ref.
    expect(refOf((await ok('snapshot')).text, /- button "Other"/)).not.toBe(button);

    const late = await call('wait', { text: 'never there' }, 500);
    expect(late).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
  });

  it('a big snapshot comes in pages of at most maxChars, cut at lines, capped and said so', async () => {
    await ok('navigate', { url: `${fixtures.url}/big` });
    const pages: string[] = [];
    let page = await ok('snapshot', { maxChars: 20_000 });
    expect(page.truncated).toBe(true);
    const total: number = page.totalChars;
    for (;;) {
      expect(page.text.length).toBeLessThanOrEqual(20_000);
      expect(page.text.endsWith('\n')).toBe(true);
      pages.push(page.text);
      if (page.nextCursor === undefined) break;
      page = await ok('snapshot', { maxChars: 20_000, cursor: page.nextCursor });
    }
    expect(pages.length).toBeGreaterThan(5);
    expect(pages.join('').length).toBe(total);
    // The tree stops at SNAPSHOT_LIMITS.maxNodes lines, and its last line says why.
    expect(pages.join('').trimEnd().split('\n')).toHaveLength(5_001);
    expect(pages.at(-1)).toMatch(/- note: the page has more than 5000 nodes/);

    const bogus = await call('snapshot', { cursor: 'bm90IGEgY3Vyc29y' });
    expect(bogus).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    if (bogus.ok) throw new Error('unreachable');
    expect(bogus.error.message).toMatch(/^params\.cursor: /);
  });
});
