/**
 * `npm run measure:latency`: starts `npm start`'s entrypoint as a child process on a free
 * port with a fresh data dir, measures the time until `/health` answers 200, then the
 * submit→succeeded latency of N screenshot tasks (one at a time) of a page served on
 * 127.0.0.1, and stops it with SIGTERM. Usage: `npm run measure:latency -- [tasks=30]`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, PORTS_PER_CLOUD } from './ports.js';

const TASKS = Number(process.argv[2] ?? 30);
const KEY = 'measure-key-0123456789';
const POLL_MS = 10;

const page = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<html><body><h1>latency fixture</h1></body></html>');
});
await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;

// npm start takes PORT and the five after it.
const port = await freePorts(PORTS_PER_CLOUD);
const dataDir = mkdtempSync(join(tmpdir(), 'bf-measure-'));
const started = performance.now();
const child = spawn(join('node_modules', '.bin', 'tsx'), ['local/main.ts'], {
  env: {
    ...process.env,
    PORT: String(port),
    LOCAL_API_KEY: KEY,
    LOCAL_DATA_DIR: dataDir,
    LOG_LEVEL: 'WARN',
    // The fixture page is on 127.0.0.1, which the egress guard otherwise refuses.
    EGRESS_ALLOW: '127.0.0.1',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

for (;;) {
  try {
    if ((await fetch(`${base}/health`)).status === 200) break;
  } catch {}
  if (child.exitCode !== null) throw new Error('npm start exited early');
  await new Promise((r) => setTimeout(r, POLL_MS));
}
const healthMs = performance.now() - started;

const latencies: number[] = [];
for (let i = 0; i < TASKS; i++) {
  const t0 = performance.now();
  const submitted = await fetch(`${base}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'screenshot',
      url: pageUrl,
      options: { viewport: { width: 800, height: 600 } },
    }),
  });
  const { id } = (await submitted.json()) as { id: string };
  for (;;) {
    const res = await fetch(`${base}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = (await res.json()) as { status: string };
    if (body.status === 'succeeded') break;
    if (body.status !== 'queued' && body.status !== 'running') throw new Error(`task ${id} ${body.status}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  latencies.push(performance.now() - t0);
}

child.kill('SIGTERM');
const exitCode = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
page.close();
rmSync(dataDir, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(`npm start → /health 200: ${fmt(healthMs)}`);
console.log(
  `submit → succeeded over ${TASKS} tasks (sequential, ${POLL_MS} ms polling): median ${fmt(q(0.5))}, p90 ${fmt(q(0.9))}, min ${fmt(sorted[0] ?? 0)}, max ${fmt(sorted.at(-1) ?? 0)}` +
    ` (the first includes Chromium's launch)`,
);
console.log(`stopped with SIGTERM, exit code ${exitCode}`);
