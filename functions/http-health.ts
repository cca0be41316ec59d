/** `GET /health` (no auth): 200 once every dependency answers, 503 with which one doesn't. */
import { loadHttpConfig } from '../shared/config.js';
import { checkHealth } from '../shared/health/check-health.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute } from './http/http-route.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics }, async () => {
    const report = await checkHealth({
      dynamodb: deps.store,
      sqs: deps.fleetQueue,
      s3: deps.artifacts,
    });
    return {
      statusCode: report.status === 'ok' ? 200 : 503,
      body: report,
      headers: { 'cache-control': 'no-store' },
    };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
