/**
 * Whether this worker's task definition is still its service's primary deployment. A
 * rolling deployment starts new workers and then stops the old ones; an old one that is
 * protected from scale-in (task-protection.ts) is not stopped until it lets go, so it
 * must learn it has been superseded. Asked of ECS every minute (DescribeServices on its own
 * service only); the task's own definition comes from the task metadata endpoint.
 */
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';

/** Often enough that a deployment waits at most a minute more than the grace. */
const CHECK_MS = 60_000;

export interface DeploymentWatch {
  stop(): void;
}

export const watchDeployment = (options: {
  metadataUri: string;
  cluster: string;
  service: string;
  /** Built by the composition root (createEcsClient); destroyed by `stop`. */
  ecs: ECSClient;
  onSuperseded: () => void;
  log: (event: string, details: Record<string, unknown>) => void;
}): DeploymentWatch => {
  const { ecs } = options;
  let own: string | undefined;
  const check = async () => {
    try {
      if (own === undefined) {
        const res = await fetch(`${options.metadataUri}/task`, { signal: AbortSignal.timeout(5_000) });
        const task = (await res.json()) as { Family?: string; Revision?: string };
        if (task.Family === undefined || task.Revision === undefined) return;
        own = `${task.Family}:${task.Revision}`;
      }
      const out = await ecs.send(
        new DescribeServicesCommand({ cluster: options.cluster, services: [options.service] }),
      );
      const primary = out.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.taskDefinition;
      // `arn:…:task-definition/<family>:<revision>`
      if (primary !== undefined && !primary.endsWith(`/${own}`)) {
        options.log('deployment superseded this worker', { own, primary });
        options.onSuperseded();
        clearInterval(timer);
      }
    } catch (error) {
      options.log('deployment check failed', { error: String(error) });
    }
  };
  const timer = setInterval(() => void check(), CHECK_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      ecs.destroy();
    },
  };
};
