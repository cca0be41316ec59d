/**
 * `npm run measure:mcp`: a local cloud on free ports and the MCP SDK's own client over
 * Streamable HTTP, as an agent would use it: session start through `session_create`, then
 * the latency of N `browser_navigate` and N `browser_snapshot` calls (request → answer,
 * through the local gateway, the MCP function, the worker's inbox and back).
 * Usage: `npm run measure:mcp -- [calls=50]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadLocalConfig } from '../shared/config.js';
import { startLocalCloud } from './cloud.js';

const CALLS = Number(process.argv[2] ?? 50);
const KEY = 'measure-key-0123456789';

const page = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? 0);
  res.end(`<!doctype html><title>measure ${n}</title><body><h1>Page ${n}</h1>
<nav>${Array.from({ length: 20 }, (_, i) => `<a href="?n=${i}">link ${i}</a>`).join(' ')}</nav>
<form><label>Name <input name="q"></label><select name="s"><option>a</option><option>b</option></select>
<button type="button">Go</button></form><article>${'<p>Some text of an article.</p>'.repeat(30)}</article>`);
});
await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;

const dataDir = mkdtempSync(join(tmpdir(), 'bf-measure-mcp-'));
const cloud = await startLocalCloud({
  ...loadLocalConfig({ PORT: '0', LOCAL_API_KEY: KEY, LOG_LEVEL: 'ERROR' }),
  dataDir,
  lambdaTier: false,
  extraEnv: { EGRESS_ALLOW: '127.0.0.1' },
});

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const report = (name: string, values: number[]) =>
  console.log(
    `${name.padEnd(18)} n=${values.length} p50 ${percentile(values, 50).toFixed(1)} ms  p95 ${percentile(values, 95).toFixed(1)} ms`,
  );

const client = new Client({ name: 'measure-mcp', version: '1.0.0' });
try {
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${cloud.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${KEY}` } },
    }),
  );
  const call = async (name: string, args: Record<string, unknown>) => {
    const started = performance.now();
    const result = (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      content: { type: string; text?: string }[];
      structuredContent?: Record<string, unknown>;
    };
    const ms = performance.now() - started;
    if (result.isError === true) throw new Error(`${name}: ${result.content[0]?.text}`);
    return { ms, result };
  };

  const created = await call('session_create', {});
  const sessionId = String(created.result.structuredContent?.sessionId);
  report('session_create', [created.ms]);
  const navigate: number[] = [];
  const snapshot: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    navigate.push((await call('browser_navigate', { sessionId, url: `${pageUrl}?n=${i}` })).ms);
    snapshot.push((await call('browser_snapshot', { sessionId })).ms);
  }
  report('browser_navigate', navigate);
  report('browser_snapshot', snapshot);
  await call('session_close', { sessionId });
} finally {
  await client.close().catch(() => {});
  await cloud.stop();
  page.close();
  rmSync(dataDir, { recursive: true, force: true });
}
