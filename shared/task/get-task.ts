import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { ArtifactStore, TaskStore } from './ports.js';
import type { Task } from './task.js';
import { type TaskView, toTaskView } from './task-view.js';

export interface GetTaskDeps {
  store: TaskStore;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
}

/**
 * A tenant's view of one of its tasks, with fresh presigned artifact URLs. Another
 * tenant's task answers `NOT_FOUND`, exactly as a missing one does.
 */
export const getTask = async (
  deps: GetTaskDeps,
  input: { tenantId: string; taskId: string },
): Promise<TaskView> => {
  const task: Task | undefined = await deps.store.get(input.taskId);
  if (task === undefined || task.tenantId !== input.tenantId) {
    throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `Task ${input.taskId} not found.`);
  }
  const urls = new Map<string, string>();
  for (const artifact of task.result?.artifacts ?? []) {
    urls.set(artifact.key, await deps.artifacts.presignGet(artifact.key, deps.artifactUrlTtlSeconds));
  }
  return toTaskView(task, urls, deps.artifactUrlTtlSeconds);
};
