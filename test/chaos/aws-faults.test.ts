/**
 * Chaos on the AWS side: tasks (both tiers) and live sessions run while the local cloud's
 * fault front answers a share of every DynamoDB, SQS and S3 call the way AWS does under
 * pressure — transactions cancelled for conflicts, throughput exceeded, throttling, 5xx,
 * resets, slow answers. No worker is killed, so each task's page must be loaded exactly
 * once (a fixture counts the hits per task): a successful run thrown away shows up there.
 *
 * Asserts: 0 lost (every task and session ends), 0 with two visible results, 0 successful
 * runs discarded, no worker process exits, and every tenant's usage counters equal a
 * recount of the rows at the end (`npm run admin -- usage verify`). Prints the figures.
 *
 * Small by default, as part of `npm test`; `npm run test:chaos` runs a bigger one. Sized by
 * CHAOS_FAULT_TASKS (30), CHAOS_FAULT_SESSIONS (3), CHAOS_FAULT_WORKERS (2),
 * CHAOS_FAULT_RATE (0.1), CHAOS_FAULT_SEED (2611) and CHAOS_FAULT_KINDS (all).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TENANT } from '../../local/cloud.js';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbUsageLedger } from '../../shared/adapters/dynamodb-usage-ledger.js';
import { ENV, KEYS } from '../../shared/contracts.js';
import { type UsageReport, verifyUsage } from '../../shared/tenancy/verify-usage.js';
import { BIN } from '../support/cli-process.js';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const TASKS = Number(process.env.CHAOS_FAULT_TASKS ?? 30);
const SESSIONS = Number(process.env.CHAOS_FAULT_SESSIONS ?? 3);
const WORKERS = Number(process.env.CHAOS_FAULT_WORKERS ?? 2);
const RATE = Number(process.env.CHAOS_FAULT_RATE ?? 0.1);
const SEED = Number(process.env.CHAOS_FAULT_SEED ?? 2611);
const KINDS = process.env.CHAOS_FAULT_KINDS?.split(',');
/** Every fifth task on the Lambda tier (in this process), the rest on the fleet workers. */
const LAMBDA_EVERY = 5;
const DEADLINE_MS = 60_000 + TASKS * 600;

const FINAL_TASK = ['succeeded', 'failed', 'cancelled'];

/** What the API answers about a task and a session, as far as this test reads it. */
interface TaskBody {
  id: string;
  status: string;
  attempts: number;
  history: { outcome: string }[];
  result?: { artifacts: { url: string }[] };
  error?: { code: string; message: string };
}
interface SessionBody {
  id: string;
  status: string;
  endReason?: { code: string; message: string };
}
const FINAL_SESSION = ['closed', 'failed'];

/** Pages that count their loads: `/page/<n>` answers after a few ms, like a real page. */
const hits = new Map<string, number>();
let site: Server;
let siteUrl: string;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith('/page/')) {
      res.writeHead(404).end();
      return;
    }
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const timer = setTimeout(
      () => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<html><body><h1>${path}</h1></body></html>`);
      },
      30 + (Number(path.slice(6)) % 5) * 30,
    );
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  cloud = await startTestCloud({
    worker: false,
    lambdaConcurrency: 1,
    faults: { rate: RATE, seed: SEED, slowMs: 400, kinds: KINDS },
    extraEnv: { ...FAST_ENGINE_ENV },
  });
  for (let i = 1; i <= WORKERS; i++) {
    workers.push(
      spawnWorker(cloud.env, `faults-${i}`, { WORKER_CONCURRENCY: '2', WORKER_SESSION_SLOTS: '2' }),
    );
  }
});
afterAll(async () => {
  for (const w of workers) {
    w.kill('SIGKILL');
    await w.exited;
  }
  await cloud?.dispose();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `browserfleet admin --json usage verify …` against the emulator itself (past the fault front). */
const adminUsageVerify = (...args: string[]) =>
  new Promise<{ code: number | null; report: UsageReport; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'admin', '--json', 'usage', 'verify', ...args], {
      env: {
        ...process.env,
        [ENV.stateTable]: cloud.names.stateTable,
        AWS_ENDPOINT_URL_DYNAMODB: cloud.emulatorEndpoints.dynamodb,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve({ code, report: JSON.parse(stdout), stderr });
      } catch {
        reject(new Error(`admin usage verify printed no report (exit ${code}): ${stdout}${stderr}`));
      }
    });
  });

describe('chaos: AWS faults', () => {
  it(
    `${TASKS} tasks and ${SESSIONS} sessions with ${RATE} of AWS calls faulted (seed ${SEED}): nothing lost, doubled or discarded`,
    async () => {
      const started = Date.now();
      const api = apiClient(cloud.url, TEST_API_KEY);
      let clientRetries = 0;
      let rateLimited = 0;
      let replays = 0;
      /**
       * A client as a careful user writes it: a 5xx is tried again (with the same
       * Idempotency-Key), a 429 after its Retry-After.
       */
      const call = async (method: string, path: string, init: Parameters<typeof api.call>[2] = {}) => {
        for (let attempt = 1; ; attempt++) {
          const res = await api
            .call(method, path, init)
            .catch(() => ({ status: 599, body: undefined }) as const);
          if ((res.status < 500 && res.status !== 429) || attempt >= 10) return res;
          clientRetries++;
          if (res.status === 429) rateLimited++;
          await sleep(
            res.status === 429
              ? 1_000 * Number(res.body?.error?.details?.retryAfterSeconds ?? 1)
              : Math.random() * Math.min(2_000, 100 * 2 ** attempt),
          );
        }
      };

      // Submit everything, a few at a time, each under its own Idempotency-Key.
      const ids: string[] = [];
      const page = new Map<string, string>();
      for (let i = 0; i < TASKS; i += 10) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(10, TASKS - i) }, (_, j) => {
            const n = i + j;
            return call('POST', '/v1/tasks', {
              body: JSON.stringify({
                type: 'screenshot',
                tier: n % LAMBDA_EVERY === 0 ? 'lambda' : 'fleet',
                url: `${siteUrl}/page/${n}`,
              }),
              headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-faults-${n}` },
            }).then((res) => ({ n, res }));
          }),
        );
        for (const { n, res } of batch) {
          // 200 when a retried submit replays a task that already ended.
          expect([200, 202], JSON.stringify(res.body)).toContain(res.status);
          if ('headers' in res && res.headers.get('idempotent-replayed') === 'true') replays++;
          ids.push(res.body.id);
          page.set(res.body.id, `/page/${n}`);
        }
      }

      // Sessions alongside: create, wait until live, close, wait until ended.
      const sessionRuns = Array.from({ length: SESSIONS }, async () => {
        const created = await call('POST', '/v1/sessions', {
          body: '{}',
          headers: { 'content-type': 'application/json' },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const id: string = created.body.id;
        let wentLive = false;
        let last: SessionBody | undefined;
        const until = async (done: (s: SessionBody) => boolean, timeoutMs: number) => {
          const deadline = Date.now() + timeoutMs;
          while (Date.now() < deadline) {
            const res = await call('GET', `/v1/sessions/${id}`);
            if (res.status === 200) {
              const body: SessionBody = res.body;
              last = body;
              wentLive ||= body.status === 'live';
              if (done(body)) return;
            }
            await sleep(200);
          }
        };
        await until((s) => s.status === 'live' || FINAL_SESSION.includes(s.status), 45_000);
        await call('DELETE', `/v1/sessions/${id}`);
        await until((s) => FINAL_SESSION.includes(s.status), 30_000);
        return { id, wentLive, final: last };
      });

      // Every task to its end (polling through the same faults a client would meet).
      const pending = new Set(ids);
      const final = new Map<string, TaskBody>();
      while (pending.size > 0 && Date.now() - started < DEADLINE_MS) {
        await Promise.all(
          [...pending].slice(0, 20).map(async (id) => {
            const res = await api.call('GET', `/v1/tasks/${id}`).catch(() => undefined);
            if (res?.status === 200 && FINAL_TASK.includes(res.body.status)) {
              pending.delete(id);
              final.set(id, res.body);
            }
          }),
        );
        await sleep(200);
      }
      const sessions = await Promise.all(sessionRuns);
      const elapsedMs = Date.now() - started;

      const rows = [...final.values()];
      const succeeded = rows.filter((t) => t.status === 'succeeded');
      const doubled = rows.filter(
        (t) =>
          t.history.filter((h: { outcome: string }) => h.outcome === 'succeeded').length > 1 ||
          (t.status === 'succeeded' &&
            (t.result?.artifacts.length !== 1 ||
              !t.result.artifacts[0]?.url.includes(`/tasks/${t.id}/${t.attempts}/`))),
      );
      // No worker was killed: a succeeded task's page was loaded once; any other load was
      // a run whose success was thrown away (a lost final write, a failed upload, …).
      const loads = (t: { id: string }) => hits.get(page.get(t.id) ?? '') ?? 0;
      const discarded = rows.flatMap((t) => {
        const extra = t.status === 'succeeded' ? loads(t) - 1 : loads(t);
        return extra > 0
          ? [{ id: t.id, status: t.status, loads: loads(t), history: t.history, error: t.error }]
          : [];
      });
      const exited = workers.filter((w) => w.child.exitCode !== null || w.child.signalCode !== null);
      const lostSessions = sessions.filter((s) => !FINAL_SESSION.includes(s.final?.status ?? 'unknown'));

      // The ground truth past the front: counters against a recount of the rows.
      const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.emulatorEndpoints });
      const usage = await verifyUsage({
        ledger: new DynamoDbUsageLedger(clients.dynamo, cloud.names.stateTable),
        sleep,
      }).finally(() => destroyAwsClients(clients));
      const counts = cloud.faults?.counts();

      console.log(
        `aws-faults figures: seed=${SEED} rate=${RATE} tasks=${TASKS} ` +
          `(lambda ${ids.filter((_, n) => n % LAMBDA_EVERY === 0).length}) sessions=${SESSIONS} ` +
          `succeeded=${succeeded.length} failed=${rows.length - succeeded.length} ` +
          `sessions-live=${sessions.filter((s) => s.wentLive).length} ` +
          `sessions-ended=${sessions.length - lostSessions.length} lost=${pending.size + lostSessions.length} ` +
          `doubled=${doubled.length} discarded=${discarded.length} exits=${exited.length} ` +
          `counters=${usage.exact ? 'exact' : 'DIFFER'} client-retries=${clientRetries} (429: ${rateLimited}, replayed submits: ${replays}) ` +
          `time=${(elapsedMs / 1000).toFixed(1)}s\n` +
          `  requests ${JSON.stringify(counts?.requests)}\n` +
          `  faults injected ${JSON.stringify(counts?.faults)}`,
      );
      if (discarded.length > 0) console.log('discarded runs:', JSON.stringify(discarded, null, 1));
      for (const t of rows.filter((r) => r.status !== 'succeeded')) {
        console.log(
          `not succeeded: ${t.id} ${t.status} ${JSON.stringify(t.error)} ${JSON.stringify(t.history)}`,
        );
      }
      for (const s of sessions.filter((x) => !x.wentLive)) {
        console.log(`session never live: ${s.id} ${JSON.stringify(s.final)}`);
      }
      for (const w of exited) {
        console.log(
          `worker ${w.id} exited ${w.child.exitCode ?? w.child.signalCode}: `,
          JSON.stringify(w.logs.slice(-5)),
        );
      }

      expect(Object.values(counts?.faults ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect([...pending]).toEqual([]);
      expect(lostSessions).toEqual([]);
      expect(doubled).toEqual([]);
      expect(discarded).toEqual([]);
      expect(exited.map((w) => w.id)).toEqual([]);
      expect(usage.tenants.filter((t) => t.status !== 'exact')).toEqual([]);
      // Faults on the AWS side are retried: every task succeeds, every session goes live.
      expect(rows.filter((t) => t.status !== 'succeeded').map((t) => [t.id, t.error])).toEqual([]);
      expect(
        sessions.filter((s) => !s.wentLive).map((s) => [s.id, s.final?.status, s.final?.endReason]),
      ).toEqual([]);
    },
    DEADLINE_MS + 90_000,
  );

  it('usage verify (the admin CLI) finds a drifted counter, exits 1, and --fix sets it to the recount', async () => {
    const clean = await adminUsageVerify();
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.report.exact).toBe(true);

    // A counter that drifted: one running task more than the rows say.
    const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.emulatorEndpoints });
    try {
      await clients.dynamo.send(
        new UpdateCommand({
          TableName: cloud.names.stateTable,
          Key: { pk: KEYS.usagePk(LOCAL_TENANT), sk: KEYS.usageSk },
          UpdateExpression: 'ADD running :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    } finally {
      destroyAwsClients(clients);
    }
    const drifted = await adminUsageVerify(LOCAL_TENANT);
    expect(drifted.code).toBe(1);
    expect(drifted.report.tenants).toEqual([
      expect.objectContaining({
        tenantId: LOCAL_TENANT,
        status: 'mismatch',
        differences: [{ field: 'runningTasks', counter: 1, recount: 0 }],
      }),
    ]);

    const fixed = await adminUsageVerify(LOCAL_TENANT, '--fix');
    expect(fixed.code).toBe(0);
    expect(fixed.report.tenants[0]?.status).toBe('fixed');
    expect((await adminUsageVerify()).code).toBe(0);
  }, 60_000);
});
