/**
 * `GET /v1/pressure` (no auth, like /health): how loaded the platform is, for load
 * balancers, autoscaling and humans — tasks waiting and in flight per tier, tasks running,
 * and whether it accepts work (every dependency up).
 */
import { loadHttpConfig } from '../shared/config.js';
import { checkHealth } from '../shared/health/check-health.js';
import { createHttpDeps, type HttpDeps, lazy } from './http/deps.js';
import { httpRoute } from './http/http-route.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics }, async () => {
    const [health, fleet, lambda, running] = await Promise.all([
      checkHealth({ dynamodb: deps.store, sqs: deps.fleetQueue, s3: deps.artifacts }),
      deps.fleetQueue.depth(),
      deps.lambdaQueue.depth(),
      deps.store.countLive('running'),
    ]);
    return {
      statusCode: 200,
      headers: { 'cache-control': 'no-store' },
      body: {
        accepting: health.status === 'ok',
        running,
        queued: { fleet: fleet.waiting, lambda: lambda.waiting },
        inFlight: { fleet: fleet.inFlight, lambda: lambda.inFlight },
        at: new Date(deps.clock.now()).toISOString(),
      },
    };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
