import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { httpRoute } from '../../functions/http/http-route.js';
import { EmfMetrics } from '../../shared/adapters/emf-metrics.js';
import { systemClock } from '../../shared/clock.js';
import { METRIC_DIMENSIONS, METRICS } from '../../shared/contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { recordRunOutcome } from '../../shared/task/run-metrics.js';
import { newTask } from '../../shared/task/task.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';
import { DEFAULT_LIMITS } from '../../shared/tenancy/tenant.js';

describe('EMF metrics', () => {
  it('writes one valid EMF object per data point, with defaults and dimensions', () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics({
      stage: 'prod',
      defaults: { service: 'worker' },
      write: (l) => lines.push(l),
    });
    metrics.count('TasksFailed', 1, { code: 'TIMEOUT' });
    metrics.timing('RunMs', 412);
    const [failed, run] = lines.map((l) => JSON.parse(l));
    expect(failed).toMatchObject({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: METRICS.namespace,
            Dimensions: [['service', 'code', 'Stage'], ['Stage']],
            Metrics: [{ Name: 'TasksFailed', Unit: 'Count' }],
          },
        ],
      },
      service: 'worker',
      code: 'TIMEOUT',
      Stage: 'prod',
      TasksFailed: 1,
    });
    expect(run).toMatchObject({
      RunMs: 412,
      _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'RunMs', Unit: 'Milliseconds' }] }] },
    });
  });

  it("every data point carries its deployment's stage, which no caller's dimension can replace", () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics({ stage: 'dev', write: (l) => lines.push(l) });
    metrics.count('SessionSlotsUsed', 2, { Stage: 'prod' });
    metrics.timing('RunMs', 5);
    for (const line of lines.map((l) => JSON.parse(l))) {
      expect(line.Stage).toBe('dev');
      // Every dimension set has the stage: no series sums dev and prod.
      for (const set of line._aws.CloudWatchMetrics[0].Dimensions)
        expect(set).toContain(METRIC_DIMENSIONS.stage);
    }
  });

  it('never throws, whatever the sink does', () => {
    const metrics = new EmfMetrics({
      stage: 'dev',
      write: () => {
        throw new Error('stdout closed');
      },
    });
    expect(() => metrics.count('TasksSubmitted')).not.toThrow();
  });
});

describe('what gets counted', () => {
  it('maps run outcomes to metrics', () => {
    const metrics = new RecordingMetrics();
    const task = newTask({
      id: 't',
      tenantId: 'x',
      spec: { type: 'screenshot', options: screenshotOptionsSchema.parse({}) },
      url: 'http://a.test/',
      now: 0,
    });
    recordRunOutcome(
      metrics,
      { kind: 'failed', task: { ...task, status: 'failed', error: { code: 'TIMEOUT', message: '' } } },
      'fleet',
    );
    recordRunOutcome(metrics, { kind: 'lease-lost' }, 'fleet');
    recordRunOutcome(
      metrics,
      {
        kind: 'succeeded',
        task: {
          ...task,
          status: 'succeeded',
          startedAt: '2026-01-01T00:00:00.000Z',
          endedAt: '2026-01-01T00:00:00.500Z',
          result: { artifacts: [], blockedRequests: [{ url: 'http://10.0.0.1/', reason: 'private' }] },
        },
      },
      'lambda',
    );
    expect(metrics.total('TasksFailed', { code: 'TIMEOUT' })).toBe(1);
    expect(metrics.total('LeaseLost')).toBe(1);
    expect(metrics.total('TasksSucceeded', { tier: 'lambda' })).toBe(1);
    expect(metrics.total('RunMs')).toBe(500);
    expect(metrics.total('DestinationsBlocked', { where: 'browser', reason: 'private' })).toBe(1);
  });

  it('counts auth failures at the HTTP edge', async () => {
    const metrics = new RecordingMetrics();
    const handler = httpRoute(
      {
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics,
        auth: {
          verifier: { verify: async () => undefined },
          buckets: { take: async () => ({ admitted: true, tat: 0 }) },
          clock: systemClock,
        },
      },
      async () => ({ statusCode: 200, body: {} }),
    );
    const event = {
      headers: { authorization: 'Bearer nope' },
      requestContext: { http: { method: 'GET' } },
    } as unknown as APIGatewayProxyEventV2;
    const res = await handler(event, { getRemainingTimeInMillis: () => 10_000 } as Context);
    expect(res.statusCode).toBe(401);
    expect(metrics.total('AuthFailures')).toBe(1);
  });

  describe('refusals at the HTTP edge', () => {
    const tenant = { tenantId: 'ten', limits: DEFAULT_LIMITS, keyPrefix: 'bf_test' };
    const route = (
      metrics: RecordingMetrics,
      admitted: boolean,
      handler: () => Promise<{ statusCode: number; body: unknown }>,
    ) =>
      httpRoute(
        {
          logger: new Logger({ logLevel: 'SILENT' }),
          metrics,
          auth: {
            verifier: { verify: async () => tenant },
            buckets: { take: async () => ({ admitted, tat: Date.now() + 60_000 }) },
            clock: systemClock,
          },
        },
        handler,
      );
    const call = (handler: ReturnType<typeof route>) =>
      handler(
        {
          headers: { authorization: 'Bearer bf_test_secret' },
          requestContext: { http: { method: 'GET' } },
        } as unknown as APIGatewayProxyEventV2,
        { getRemainingTimeInMillis: () => 10_000 } as Context,
      );
    const ok = async () => ({ statusCode: 200, body: {} });

    it('counts RateLimited when the bucket refuses', async () => {
      const metrics = new RecordingMetrics();
      expect((await call(route(metrics, false, ok))).statusCode).toBe(429);
      expect(metrics.total('RateLimited')).toBe(1);
      expect(metrics.total('QuotaExceeded')).toBe(0);
    });

    it('counts QuotaExceeded, and a destination blocked at submit with its reason', async () => {
      const metrics = new RecordingMetrics();
      const quota = route(metrics, true, async () => {
        throw new BrowserfleetError(ERROR_CODES.QUOTA_EXCEEDED, 'maxQueuedTasks reached');
      });
      expect((await call(quota)).statusCode).toBe(429);
      const blocked = route(metrics, true, async () => {
        throw new BrowserfleetError(ERROR_CODES.DESTINATION_BLOCKED, 'private', {
          details: { reason: 'private' },
        });
      });
      expect((await call(blocked)).statusCode).toBe(400);
      expect(metrics.total('QuotaExceeded')).toBe(1);
      expect(metrics.total('DestinationsBlocked', { where: 'submit', reason: 'private' })).toBe(1);
      expect(metrics.total('RateLimited')).toBe(0);
    });
  });
});
