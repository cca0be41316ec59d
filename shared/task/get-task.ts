import type { ArtifactStore } from '../core/artifact-store.js';
import { isIdShaped, notFound } from '../ids.js';
import type { TaskStore } from './ports.js';
import type { Task } from './task.js';
import type { TaskDurations } from './task-durations.js';
import { type TaskView, toTaskView } from './task-view.js';
import { waitForTask } from './wait-for-task.js';

export interface GetTaskDeps {
  store: TaskStore;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
  /** What this process saw of how long tasks take: held answers read the row less often. */
  durations?: TaskDurations;
}

/**
 * A tenant's view of one of its tasks, with fresh presigned artifact URLs. Another
 * tenant's task answers `NOT_FOUND`, exactly as a missing one does.
 */
export const getTask = async (
  deps: GetTaskDeps,
  input: { tenantId: string; taskId: string; waitMs?: number; signal?: AbortSignal },
): Promise<TaskView> => {
  if (!isIdShaped(input.taskId)) throw notFound('Task', input.taskId);
  const found: Task | undefined = await deps.store.get(input.taskId);
  if (found === undefined || found.tenantId !== input.tenantId) {
    throw notFound('Task', input.taskId);
  }
  const task = input.waitMs
    ? await waitForTask(deps.store, found, input.waitMs, input.signal, undefined, deps.durations)
    : found;
  return presentTask(deps, task);
};

/** The client's view of a task, with fresh presigned URLs for its artifacts. */
export const presentTask = async (
  deps: Pick<GetTaskDeps, 'artifacts' | 'artifactUrlTtlSeconds'>,
  task: Task,
): Promise<TaskView> => {
  const urls = new Map<string, string>();
  for (const artifact of task.result?.artifacts ?? []) {
    urls.set(artifact.key, await deps.artifacts.presignGet(artifact.key, deps.artifactUrlTtlSeconds));
  }
  return toTaskView(task, urls, deps.artifactUrlTtlSeconds);
};
