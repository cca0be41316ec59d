/**
 * What every HTTP function's composition root builds, whatever else it uses: the logger and
 * the metrics. Each entry file (`functions/http-*.ts`) declares the narrow ports its handler
 * uses and builds only those, from the config its declared resources imply
 * (`HTTP_FUNCTION_RESOURCES`): no function builds, bundles or is granted an adapter it
 * doesn't call.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { EmfMetrics } from '../../shared/adapters/emf-metrics.js';
import type { HttpBaseConfig } from '../../shared/config.js';
import { type Metrics, noopMetrics } from '../../shared/metrics/metrics.js';
import type { RouteAuth } from './http-route.js';

export interface RouteDeps {
  logger: Logger;
  metrics: Metrics;
}

/** A route that takes an API key: it authenticates and rate-limits the caller. */
export interface AuthenticatedRouteDeps extends RouteDeps {
  auth: RouteAuth;
}

/** One HTTP function, composed: its handler, and how to close its clients (local cloud, tests). */
export interface ComposedHttpFunction<H> {
  handler: H;
  dispose(): void;
}

export const createRouteDeps = (config: HttpBaseConfig): RouteDeps => ({
  logger: new Logger({
    serviceName: 'browserfleet-http',
    logLevel: config.logLevel,
    persistentKeys: { stage: config.stage },
  }),
  metrics: config.metricsEnabled
    ? new EmfMetrics({ stage: config.stage, defaults: { service: 'http' } })
    : noopMetrics,
});
