/**
 * `npm start` itself, as a newcomer runs it: the real entrypoint (local/main.ts) as its own
 * process. It comes up, runs a screenshot task end to end, stops on a terminal's Ctrl-C
 * (SIGINT to its whole process group) and on SIGTERM with exit code 0 leaving no DynamoDB
 * Local and no Chromium behind, and after a restart on the same data dir the finished task
 * and its artifact are still there, and a session live at the Ctrl-C is recorded as ended.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, PORTS_PER_CLOUD } from '../../local/ports.js';
import { apiClient, type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';

const KEY = 'npm-start-key-0123456789';
let site: FixtureServer;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<h1 style="margin:0;background:#36c">npm start</h1>' });
  dataDir = mkdtempSync(join(tmpdir(), 'bf-npm-start-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) process.kill(-(c.pid as number), 'SIGKILL');
  await site?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Starts `npm start`'s entrypoint and resolves once it prints that it is up. In a process
 * group of its own, as a terminal runs it, so a Ctrl-C can go to the whole group.
 */
const start = async (port: number) => {
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['local/main.ts'], {
    detached: true,
    env: {
      ...process.env,
      PORT: String(port),
      LOCAL_API_KEY: KEY,
      LOCAL_DATA_DIR: dataDir,
      LOG_LEVEL: 'WARN',
      EGRESS_ALLOW: new URL(site.url).host,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('browserfleet is up at')) resolve();
    });
    void exited.then((code) => reject(new Error(`npm start exited with ${code} before it was up`)));
  });
  return { child, exited };
};

/** Processes whose command line mentions `text` (DynamoDB Local names its data dir). */
const processesMentioning = (text: string): number[] =>
  readdirSync('/proc').flatMap((e) => {
    if (!/^\d+$/.test(e)) return [];
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return [];
      return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text) ? [Number(e)] : [];
    } catch {
      return [];
    }
  });

/** Every live process below `root` (children, grandchildren, …), from /proc. */
const descendants = (root: number): number[] => {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') parent.set(Number(e), Number(ppid));
    } catch {}
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter(below);
};
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('comes up, runs a screenshot, stops cleanly on Ctrl-C and SIGTERM, and keeps its work across a restart', async () => {
    const port = await freePorts(PORTS_PER_CLOUD);
    const base = `http://127.0.0.1:${port}`;
    const first = await start(port);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const api = apiClient(base, KEY);
    const done = await api.run({
      type: 'screenshot',
      url: `${site.url}/`,
      options: { viewport: { width: 640, height: 360 } },
    });
    expect(done.body.status).toBe('succeeded');
    const png = new Uint8Array(await (await fetch(done.body.result.artifacts[0].url)).arrayBuffer());
    expect(pngSize(png)).toEqual({ width: 640, height: 360 });
    // What it runs: DynamoDB Local (its data dir on its command line) and Chromium (a
    // `bf-chrome-` profile), all below the process npm start is.
    const started = descendants(first.child.pid as number);
    const chromium = started.filter((pid) => processesMentioning('bf-chrome-').includes(pid));
    expect(chromium.length).toBeGreaterThan(0);
    expect(processesMentioning(dataDir).length).toBeGreaterThan(0);

    // A live session when the Ctrl-C comes: the worker ends it as it stops, and that end
    // must reach DynamoDB Local, which the same Ctrl-C must not have killed first.
    const session = await api.call('POST', '/v1/sessions', {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(session.status).toBe(201);
    await expect
      .poll(async () => (await api.call('GET', `/v1/sessions/${session.body.id}`)).body.status, {
        timeout: 30_000,
      })
      .toBe('live');

    process.kill(-(first.child.pid as number), 'SIGINT');
    expect(await first.exited).toBe(0);
    // Nothing it started outlives it.
    await expect.poll(() => processesMentioning(dataDir), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => started.filter(alive), { timeout: 10_000 }).toEqual([]);

    // New ports (the old ones may be taken meanwhile); the data dir is what carries over.
    const port2 = await freePorts(PORTS_PER_CLOUD);
    const second = await start(port2);
    const api2 = apiClient(`http://127.0.0.1:${port2}`, KEY);
    const again = await api2.get(done.body.id);
    expect(again.body).toMatchObject({ id: done.body.id, status: 'succeeded' });
    expect((await api2.call('GET', `/v1/sessions/${session.body.id}`)).body).toMatchObject({
      status: 'closed',
      endReason: { code: 'WORKER_SHUTDOWN' },
    });
    const kept = new Uint8Array(await (await fetch(again.body.result.artifacts[0].url)).arrayBuffer());
    expect(Buffer.from(kept).equals(Buffer.from(png))).toBe(true);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
