/**
 * `GET /v1/pressure` (no auth, like /health): how loaded the platform is, for load
 * balancers, autoscaling and humans — tasks waiting and in flight per tier, tasks running,
 * and whether it accepts work (every dependency up). One reading answers for a couple of
 * seconds (see `createPressureReader`).
 */
import { loadHttpConfig } from '../shared/config.js';
import { createPressureReader } from '../shared/health/read-pressure.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute } from './http/http-route.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) => {
  const pressure = createPressureReader({
    dependencies: { dynamodb: deps.store, sqs: deps.fleetQueue, s3: deps.artifacts },
    fleetQueue: deps.fleetQueue,
    lambdaQueue: deps.lambdaQueue,
    countRunning: () => deps.store.countLive('running'),
    clock: deps.clock,
  });
  return httpRoute({ logger: deps.logger, metrics: deps.metrics }, async () => ({
    statusCode: 200,
    headers: { 'cache-control': 'no-store' },
    body: await pressure(),
  }));
};

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
