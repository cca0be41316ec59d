/**
 * The MCP server at `/mcp`, driven by the official SDK's own `Client` over Streamable HTTP
 * against the local cloud: real handlers, DynamoDB Local, the SQS and S3 emulators, the
 * fleet worker and Chromium; fixture pages on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: FixtureServer;
let alpha: { key: string };
let beta: { key: string };
const clients: Client[] = [];

/** A paragraph per line, numbered, so pages can be checked for order and completeness. */
const LONG_TEXT = Array.from({ length: 400 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(6)}`);

beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<html><head><title>Fixture</title></head><body style="margin:0;background:#2a6"><h1>fixture</h1></body></html>',
    '/article': `<html><head><title>Long</title></head><body><article><h1>Long read</h1>${LONG_TEXT.map((p) => `<p>${p}</p>`).join('')}</article></body></html>`,
    '/list':
      '<html><body><ul><li class="i">one</li><li class="i">two</li></ul><a href="/">home</a></body></html>',
    '/agent': `<html><head><title>Agent</title></head><body>
<button onclick="out.textContent = 'clicked ' + (++n); console.log('clicked', n)">Go</button>
<p id="out">idle</p><label>Name <input id="name"></label>
<select id="pick"><option value="a">Alpha</option><option value="b">Beta</option></select>
<a id="dl" href="data:text/csv;base64,${Buffer.from('a,b\n1,2\n').toString('base64')}" download="report.csv">report</a>
<script>var n = 0; var out = document.getElementById('out');</script></body></html>`,
  });
  cloud = await startTestCloud();
  alpha = await createTestTenant(cloud, 'mcp-alpha');
  beta = await createTestTenant(cloud, 'mcp-beta');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await cloud?.dispose();
  await site?.close();
});

const connect = async (key: string | undefined): Promise<Client> => {
  const client = new Client({ name: 'browserfleet-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${cloud.url}/mcp`), {
    requestInit: { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
};

type Content = { type: string; text?: string; data?: string; mimeType?: string; uri?: string };
const call = async (client: Client, name: string, args: Record<string, unknown>) => {
  const result = await client.callTool({ name, arguments: args });
  return result as { content: Content[]; isError?: boolean; structuredContent?: Record<string, unknown> };
};
const textOf = (result: { content: Content[] }) =>
  result.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');

describe('MCP over Streamable HTTP', () => {
  it('lists its tools, each with an object input schema', async () => {
    const client = await connect(alpha.key);
    expect(client.getServerVersion()?.name).toBe('browserfleet');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const expected of [
      'screenshot',
      'pdf',
      'markdown',
      'content',
      'scrape',
      'links',
      'task_result',
      'session_create',
      'session_list',
      'session_close',
      'session_live_view',
      'browser_navigate',
      'browser_click',
      'browser_screenshot',
    ]) {
      expect(names).toContain(expected);
    }
    for (const tool of tools) expect(tool.inputSchema.type).toBe('object');
    const navigate = tools.find((t) => t.name === 'browser_navigate');
    expect(navigate?.inputSchema.required).toEqual(expect.arrayContaining(['sessionId', 'url']));
  });

  it('screenshot: a small PNG inline, with a link to the same file', async () => {
    const client = await connect(alpha.key);
    const result = await call(client, 'screenshot', {
      url: `${site.url}/`,
      options: { viewport: { width: 320, height: 200 } },
    });
    expect(result.isError).toBeFalsy();
    const image = result.content.find((c) => c.type === 'image');
    expect(image?.mimeType).toBe('image/png');
    const bytes = Buffer.from(image?.data ?? '', 'base64');
    expect(pngSize(bytes)).toEqual({ width: 320, height: 200 });
    const link = result.content.find((c) => c.type === 'resource_link');
    const downloaded = new Uint8Array(await (await fetch(link?.uri ?? '')).arrayBuffer());
    expect(Buffer.from(downloaded).equals(bytes)).toBe(true);
  });

  it('markdown: paged by maxChars, each page within it, the pages together the whole text', async () => {
    const client = await connect(alpha.key);
    const first = await call(client, 'markdown', { url: `${site.url}/article`, maxChars: 2_000 });
    expect(first.isError).toBeFalsy();
    const taskId = String(first.structuredContent?.taskId);
    const total = Number(first.structuredContent?.totalChars);
    expect(total).toBeGreaterThan(20_000);
    const pages = [first];
    let cursor = first.structuredContent?.nextCursor as string | undefined;
    while (cursor !== undefined) {
      const next = await call(client, 'task_result', { taskId, cursor, maxChars: 2_000 });
      pages.push(next);
      cursor = next.structuredContent?.nextCursor as string | undefined;
    }
    expect(pages.length).toBeGreaterThan(10);
    // Each page's text (its last line is where it is and how to go on) fits the budget.
    const bodies = pages.map((p) => textOf(p).replace(/\n\[characters [^\]]*\]$/, ''));
    for (const body of bodies) expect(body.length).toBeLessThanOrEqual(2_000);
    const whole = bodies.join('');
    expect(whole.length).toBe(total);
    for (const paragraph of [LONG_TEXT[0], LONG_TEXT[199], LONG_TEXT[399]]) {
      expect(whole).toContain(paragraph?.trim());
    }
    const bad = await call(client, 'task_result', { taskId, cursor: 'not-a-cursor' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/^VALIDATION_FAILED: cursor/);
  });

  it('pdf: answered as a link to the file; scrape and links as JSON', async () => {
    const client = await connect(alpha.key);
    const pdf = await call(client, 'pdf', { url: `${site.url}/` });
    const link = pdf.content.find((c) => c.type === 'resource_link');
    expect(link?.mimeType).toBe('application/pdf');
    const body = Buffer.from(await (await fetch(link?.uri ?? '')).arrayBuffer());
    expect(body.subarray(0, 5).toString()).toBe('%PDF-');

    const scraped = await call(client, 'scrape', {
      url: `${site.url}/list`,
      options: { elements: [{ name: 'items', selector: 'li.i', all: true }] },
    });
    expect(scraped.isError).toBeFalsy();
    expect(JSON.stringify(JSON.parse(textOf(scraped)))).toContain('"one","two"');

    const links = await call(client, 'links', { url: `${site.url}/list` });
    expect(textOf(links)).toContain(`${site.url}/`);
  });
});

describe('MCP live sessions', () => {
  it('one client drives two isolated browsers; a new connection picks them up where they are', async () => {
    const client = await connect(alpha.key);
    const one = await call(client, 'session_create', { idleTimeoutMs: 60_000 });
    const two = await call(client, 'session_create', { idleTimeoutMs: 60_000 });
    expect(one.structuredContent?.status).toBe('live');
    expect(String(one.structuredContent?.liveViewUrl)).toMatch(/\/v1\/sessions\/.+\/live\?ticket=/);
    const [a, b] = [String(one.structuredContent?.sessionId), String(two.structuredContent?.sessionId)];
    const nav = await call(client, 'browser_navigate', { sessionId: a, url: `${site.url}/` });
    expect(nav.structuredContent?.result).toMatchObject({ url: `${site.url}/`, status: 200 });
    await call(client, 'browser_navigate', { sessionId: b, url: `${site.url}/list` });
    await call(client, 'browser_evaluate', { sessionId: a, expression: 'localStorage.setItem("who", "a")' });

    // Another connection (any instance answers): the same browsers, each as it was left.
    const again = await connect(alpha.key);
    const where = async (id: string) =>
      (
        await call(again, 'browser_evaluate', {
          sessionId: id,
          expression: '[location.pathname, localStorage.getItem("who")]',
        })
      ).structuredContent?.result;
    expect(await where(a)).toEqual({ value: ['/', 'a'] });
    expect(await where(b)).toEqual({ value: ['/list', null] });
    const shot = await call(again, 'browser_screenshot', { sessionId: b });
    expect(shot.content.find((c) => c.type === 'image')?.mimeType).toBe('image/png');

    const listed = await call(again, 'session_list', { status: 'live' });
    expect(listed.structuredContent?.sessions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sessionId: a }),
        expect.objectContaining({ sessionId: b }),
      ]),
    );
    for (const id of [a, b]) await call(again, 'session_close', { sessionId: id });
    const gone = await call(again, 'browser_navigate', { sessionId: a, url: `${site.url}/` });
    expect(textOf(gone)).toMatch(/^SESSION_NOT_LIVE: /);
  });

  it('an agent acts on snapshot refs, reads the console, opens tabs and gets downloads as links', async () => {
    const client = await connect(alpha.key);
    const sessionId = String((await call(client, 'session_create', {})).structuredContent?.sessionId);
    await call(client, 'browser_navigate', { sessionId, url: `${site.url}/agent` });
    const snapshot = textOf(await call(client, 'browser_snapshot', { sessionId }));
    expect(snapshot).toContain('Page: Agent');
    const refOf = (pattern: RegExp) => snapshot.match(pattern)?.[1] ?? 'missing';
    const go = refOf(/button "Go" \[ref=(e\d+)\]/);
    const name = refOf(/textbox "Name" \[ref=(e\d+)\]/);
    expect(await call(client, 'browser_click', { sessionId, ref: go })).not.toHaveProperty('isError', true);
    expect((await call(client, 'browser_wait', { sessionId, text: 'clicked 1' })).isError).toBeFalsy();
    await call(client, 'browser_fill', { sessionId, ref: name, value: 'Ada' });
    const picked = await call(client, 'browser_select', { sessionId, selector: '#pick', values: ['b'] });
    expect(picked.structuredContent?.result).toEqual({ selected: ['b'] });
    const read = await call(client, 'browser_evaluate', {
      sessionId,
      expression: 'document.getElementById("name").value',
    });
    expect(read.structuredContent?.result).toEqual({ value: 'Ada' });
    const buttons = textOf(await call(client, 'browser_snapshot', { sessionId, roles: ['button'] }));
    expect(buttons).toContain('button "Go"');
    expect(buttons).not.toContain('textbox');

    const logged = await call(client, 'browser_console', { sessionId });
    const messages =
      (logged.structuredContent?.result as { messages: { text: string }[] } | undefined)?.messages ?? [];
    expect(messages.map((m) => m.text)).toContain('clicked 1');

    const opened = await call(client, 'browser_tabs', { sessionId, action: 'open', url: `${site.url}/` });
    expect(textOf(opened)).toContain('"active":true');
    const tabs = await call(client, 'browser_tabs', { sessionId, action: 'list' });
    expect(
      (tabs.structuredContent?.result as { tabs: { active: boolean; url: string }[] } | undefined)?.tabs,
    ).toEqual([
      expect.objectContaining({ url: `${site.url}/agent`, active: false }),
      expect.objectContaining({ url: `${site.url}/`, active: true }),
    ]);
    await call(client, 'browser_tabs', { sessionId, action: 'select', index: 0 });

    await call(client, 'browser_click', { sessionId, selector: '#dl' });
    let links: Content[] = [];
    for (let i = 0; i < 50 && links.length === 0; i++) {
      const answer = await call(client, 'browser_downloads', { sessionId });
      links = answer.content.filter((c) => c.type === 'resource_link');
    }
    expect(links[0]).toMatchObject({ name: expect.stringContaining('report.csv'), mimeType: 'text/csv' });
    expect(await (await fetch(links[0]?.uri ?? '')).text()).toBe('a,b\n1,2\n');
    await call(client, 'session_close', { sessionId });
  });

  it('a session whose client vanished ends by its idle timeout', async () => {
    const client = await connect(alpha.key);
    const created = await call(client, 'session_create', { idleTimeoutMs: 1_500 });
    const sessionId = String(created.structuredContent?.sessionId);
    await client.close();
    const watcher = await connect(alpha.key);
    let view = await call(watcher, 'session_live_view', { sessionId });
    for (let i = 0; i < 100 && view.structuredContent?.status === 'live'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = await call(watcher, 'session_live_view', { sessionId });
    }
    expect(view.structuredContent).toMatchObject({ status: 'closed', endReason: { code: 'IDLE_TIMEOUT' } });
  });
});

describe('MCP refusals', () => {
  it('401 without an API key, with the usual error body', async () => {
    await expect(connect(undefined)).rejects.toMatchObject({ code: 401 });
    const res = await fetch(`${cloud.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('UNAUTHORIZED');
  });

  it("counts every MCP request against the tenant's rate limit", async () => {
    const limited = await createTestTenant(cloud, 'mcp-limited', { requestsPerSecond: 0.01, burst: 4 });
    const ping = () =>
      fetch(`${cloud.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${limited.key}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    for (let i = 0; i < 4; i++) expect((await ping()).status).toBe(200);
    const refused = await ping();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('100');
    expect((await refused.json()).error.code).toBe('RATE_LIMITED');
  });

  it('a blocked destination is DESTINATION_BLOCKED, and no browser runs it', async () => {
    const client = await connect(alpha.key);
    const result = await call(client, 'screenshot', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^DESTINATION_BLOCKED: /);
  });

  it("another tenant's task and session are not found, exactly like missing ones", async () => {
    const owner = await connect(alpha.key);
    const other = await connect(beta.key);
    const done = await call(owner, 'content', { url: `${site.url}/` });
    const taskId = String(done.structuredContent?.taskId);
    const foreign = await call(other, 'task_result', { taskId });
    expect(foreign.isError).toBe(true);
    expect(textOf(foreign)).toBe(`NOT_FOUND: Task ${taskId} does not exist.`);

    const created = await call(owner, 'session_create', {});
    const sessionId = String(created.structuredContent?.sessionId);
    for (const [name, args] of [
      ['session_close', { sessionId }],
      ['session_live_view', { sessionId }],
      ['browser_navigate', { sessionId, url: `${site.url}/` }],
    ] as const) {
      const refused = await call(other, name, args);
      expect(refused.isError, name).toBe(true);
      expect(textOf(refused), name).toMatch(/^NOT_FOUND: /);
    }
    expect((await call(owner, 'session_close', { sessionId })).structuredContent?.status).toBe('closed');
  });

  it('refuses another Host or Origin (DNS rebinding) with 403, and GET with 405', async () => {
    // node:http, since fetch may not set Host.
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
        const req = request(
          `${cloud.url}/mcp`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${alpha.key}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const rebound = await post({ host: 'evil.example.com', origin: 'http://evil.example.com' });
    expect(rebound).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN_ORIGIN' } } });
    const reboundNoOrigin = await post({ host: 'evil.example.com' });
    expect(reboundNoOrigin.status).toBe(403);
    const crossOrigin = await post({ origin: 'http://evil.example.com' });
    expect(crossOrigin.status).toBe(403);
    // The same host on another port is another origin.
    expect((await post({ origin: 'http://127.0.0.1:1' })).status).toBe(403);
    const sameOrigin = await post({ origin: cloud.url });
    expect(sameOrigin).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 1, result: {} } });

    const get = await fetch(`${cloud.url}/mcp`, {
      headers: { authorization: `Bearer ${alpha.key}`, accept: 'text/event-stream' },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

/** A desktop-style client: `browserfleet mcp` started as a process, spoken to over stdio. */
const stdioClient = async (apiKey: string): Promise<{ client: Client; connected: Promise<void> }> => {
  const client = new Client({ name: 'desktop-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(import.meta.dirname, '../../ops/bin/browserfleet.mjs'), 'mcp'],
    env: {
      ...(process.env as Record<string, string>),
      BROWSERFLEET_URL: cloud.url,
      BROWSERFLEET_API_KEY: apiKey,
    },
    stderr: 'pipe',
  });
  clients.push(client);
  return { client, connected: client.connect(transport) };
};

describe('the stdio bridge (`browserfleet mcp`)', () => {
  it('a desktop-style client over stdio lists the tools and runs one against the platform', async () => {
    const { client, connected } = await stdioClient(alpha.key);
    await connected;
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('session_create');
    const result = await call(client, 'content', { url: `${site.url}/` });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('<h1>fixture</h1>');
    const refused = await call(client, 'task_result', { taskId: '01NOTATASK0000000000000000' });
    expect(textOf(refused)).toMatch(/^NOT_FOUND: /);
    await client.close();
  });

  it('with a wrong key, answers the initialize with an error instead of hanging', async () => {
    const { client, connected } = await stdioClient('bf_wrong_key_0000000000');
    await expect(connected).rejects.toThrow(/401|UNAUTHORIZED/);
    await client.close();
  });
});

/**
 * The official conformance suite's server scenarios that apply to this server: the others
 * call tools, prompts and resources of the suite's own reference server (`test_simple_text`,
 * `test_prompt_with_image`, …), or need logging, completions, sampling, elicitation or SSE
 * streams, which a stateless JSON server over API Gateway doesn't offer. The suite sends no
 * API key, so it calls through a proxy that adds one and forwards Host and Origin as sent.
 */
const CONFORMANCE_SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

describe('the MCP conformance suite', () => {
  it.each(CONFORMANCE_SCENARIOS)('passes %s', async (scenario) => {
    const upstream = new URL(cloud.url);
    const proxy = createServer((req, res) => {
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, authorization: `Bearer ${alpha.key}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.writeHead(502).end());
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    try {
      const bin = join(import.meta.dirname, '../../node_modules/.bin/conformance');
      const { stdout } = await promisify(execFile)(
        bin,
        ['server', '--url', `http://127.0.0.1:${port}/mcp`, '--scenario', scenario],
        { timeout: 60_000 },
      );
      // At least one check ran and passed, none failed.
      expect(stdout).toMatch(/Passed: [1-9]\d*\/\d+, 0 failed/);
    } finally {
      proxy.close();
    }
  });
});
