/**
 * Wires the `runTask` use case to its adapters: the same for the fleet worker and the
 * Lambda tier, which differ only in their queues, identity and Chromium location.
 */

import type { AwsClients } from '../adapters/aws-clients.js';
import { systemDnsResolver } from '../adapters/dns-resolver.js';
import { DynamoDbResultCache } from '../adapters/dynamodb-result-cache.js';
import { DynamoDbTaskStore } from '../adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../adapters/dynamodb-tenant-store.js';
import { startEgressProxy } from '../adapters/egress-proxy.js';
import { PuppeteerBrowserRunner } from '../adapters/puppeteer/browser-runner.js';
import type { HostEnv } from '../adapters/puppeteer/launch-chromium.js';
import { S3ArtifactStore } from '../adapters/s3-artifact-store.js';
import { systemClock } from '../clock.js';
import type { EngineConfig } from '../config.js';
import type { TaskDispatcher } from '../core/fleet-queue.js';
import type { AllowEntry } from '../egress/egress-policy.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RunTaskDeps } from '../task/run-task.js';
import { cachedTenantLimits } from '../tenancy/tenant-limits-cache.js';

export interface RunTaskWiring {
  clients: AwsClients;
  engine: EngineConfig;
  stateTable: string;
  artifactBucket: string;
  /** Where a retried or handed-back task's message goes: the runner's own tier's queue. */
  dispatcher: TaskDispatcher;
  workerId: string;
  egressAllow: AllowEntry[];
  /** The process's environment (Chromium gets a filtered part of it). */
  hostEnv: HostEnv;
  chromiumPath?: string | undefined;
  chromiumBinDir?: string | undefined;
  onBrowserEvent: (event: string, details?: Record<string, unknown>) => void;
  /** The browser pool counts its crashes here. */
  metrics: Metrics;
}

export const createRunTaskDeps = (w: RunTaskWiring): RunTaskDeps => {
  const limitsOf = cachedTenantLimits(new DynamoDbTenantStore(w.clients.dynamo, w.stateTable));
  return {
    store: new DynamoDbTaskStore(w.clients.dynamo, w.stateTable),
    queue: w.dispatcher,
    artifacts: new S3ArtifactStore(w.clients.s3, w.artifactBucket),
    resultCache: new DynamoDbResultCache(w.clients.dynamo, w.stateTable),
    browser: new PuppeteerBrowserRunner({
      hostEnv: w.hostEnv,
      executablePath: w.chromiumPath,
      chromiumBinDir: w.chromiumBinDir,
      // Every task's context goes through its own egress proxy (see egress-proxy.ts).
      proxyFor: async () => {
        const proxy = await startEgressProxy({ allow: w.egressAllow, resolve: systemDnsResolver });
        return { server: proxy.url, blocked: proxy.blocked, malformed: proxy.malformed, close: proxy.close };
      },
      onEvent: w.onBrowserEvent,
      metrics: w.metrics,
    }),
    clock: systemClock,
    workerId: w.workerId,
    leaseMs: w.engine.leaseMs,
    heartbeatMs: w.engine.heartbeatMs,
    backoff: w.engine.backoff,
    random: Math.random,
    maxRunningTasks: async (tenantId) => (await limitsOf(tenantId)).maxRunningTasks,
  };
};
