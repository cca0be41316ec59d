/**
 * `npm run measure:sessions`: a local cloud on free ports, one live session, and over the
 * WebSocket API (a `ws` client, as a user's program): the round-trip latency of N commands
 * (send → `result`, through the local gateway, the ws-command handler, the worker's inbox
 * and PostToConnection), then the screencast's frame rate on an animated page for a few
 * seconds at the highest frame-rate cap. Usage: `npm run measure:sessions -- [commands=200]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadLocalConfig } from '../shared/config.js';
import { startLocalCloud } from './cloud.js';

const COMMANDS = Number(process.argv[2] ?? 200);
const SCREENCAST_SECONDS = 5;
const KEY = 'measure-key-0123456789';

const page = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(`<!doctype html><title>measure</title><body style="margin:0">
<button id="b" style="width:200px;height:80px" onclick="this.textContent = ++window.n">0</button>
<div id="box" style="width:120px;height:120px;background:#36c;position:absolute;top:120px"></div>
<script>window.n = 0; const box = document.getElementById('box');
(function step(t) { box.style.left = (200 + 150 * Math.sin(t / 300)) + 'px'; requestAnimationFrame(step); })(0);</script>`);
});
await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;

const dataDir = mkdtempSync(join(tmpdir(), 'bf-measure-sessions-'));
const cloud = await startLocalCloud({
  ...loadLocalConfig({ PORT: '0', LOCAL_API_KEY: KEY, LOG_LEVEL: 'ERROR' }),
  dataDir,
  lambdaTier: false,
  extraEnv: { EGRESS_ALLOW: '127.0.0.1' },
});

try {
  const createdAt = performance.now();
  const created = await fetch(`${cloud.url}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ viewport: { width: 1024, height: 768 } }),
  }).then((r) => r.json() as Promise<{ id: string }>);

  const ws = new WebSocket(cloud.wsUrl, { headers: { authorization: `Bearer ${KEY}` } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waiters = new Map<string, (m: { type: string; [k: string]: unknown }) => void>();
  let frames = 0;
  let frameBytes = 0;
  let live: (() => void) | undefined;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; id?: string; status?: string; data?: string };
    if (m.type === 'frame') {
      frames++;
      frameBytes += String(data).length;
    } else if ((m.type === 'attached' || m.type === 'status') && m.status === 'live') live?.();
    else if (m.id !== undefined) waiters.get(m.id)?.(m);
  });
  await new Promise<void>((resolve) => {
    live = resolve;
    ws.send(JSON.stringify({ action: 'attach', sessionId: created.id }));
  });
  const startMs = performance.now() - createdAt;
  let ids = 0;
  const command = (method: string, params: Record<string, unknown>) =>
    new Promise<number>((resolve, reject) => {
      const id = String(++ids);
      const sent = performance.now();
      waiters.set(id, (m) => {
        waiters.delete(id);
        if (m.type === 'error') reject(new Error(JSON.stringify(m)));
        else resolve(performance.now() - sent);
      });
      ws.send(JSON.stringify({ action: 'command', id, method, params }));
    });

  await command('navigate', { url: pageUrl });
  for (let i = 0; i < 10; i++) await command('evaluate', { expression: 'document.title' }); // warm-up
  const evaluate: number[] = [];
  const click: number[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    evaluate.push(await command('evaluate', { expression: '() => window.n' }));
    click.push(await command('click', { selector: '#b' }));
  }

  ws.send(JSON.stringify({ action: 'screencast', enabled: true, maxFps: 15, quality: 60 }));
  await new Promise((r) => setTimeout(r, 1_000)); // the stream settles
  frames = 0;
  frameBytes = 0;
  const fpsStarted = performance.now();
  await new Promise((r) => setTimeout(r, SCREENCAST_SECONDS * 1000));
  const fps = frames / ((performance.now() - fpsStarted) / 1000);
  const avgFrameKb = frames === 0 ? 0 : frameBytes / frames / 1024;
  ws.close();
  await fetch(`${cloud.url}/v1/sessions/${created.id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${KEY}` },
  });

  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  };
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(10)} n=${xs.length}  p50 ${pct(xs, 50).toFixed(1)} ms  p95 ${pct(xs, 95).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms`;
  process.stdout.write(
    [
      `session start (POST /v1/sessions → live, its own Chromium): ${startMs.toFixed(0)} ms`,
      'command round trip (ws send → result), one at a time:',
      `  ${row('evaluate', evaluate)}`,
      `  ${row('click', click)}`,
      `screencast (maxFps 15, quality 60, animated page, ${SCREENCAST_SECONDS} s): ${fps.toFixed(1)} fps, ${avgFrameKb.toFixed(1)} KB per frame message`,
      '',
    ].join('\n'),
  );
} finally {
  await cloud.stop();
  page.close();
  rmSync(dataDir, { recursive: true, force: true });
}
