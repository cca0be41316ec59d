/** The JSON a client sees for a task: no lease internals, artifact keys swapped for URLs. */

import type { Tier } from '../core/fleet-queue.js';
import type { AttemptRecord, Task, TaskError, TaskResult, TaskStatus } from './task.js';
import type { TaskOptions, TaskType } from './task-input.js';

export interface ArtifactView {
  name: string;
  contentType: string;
  size: number;
  url: string;
  /** Seconds the URL stays valid after the response is made. */
  urlExpiresIn: number;
}

export interface TaskView {
  id: string;
  type: TaskType;
  status: TaskStatus;
  url: string;
  options: TaskOptions;
  tier: Tier;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
  attempts: number;
  maxAttempts: number;
  /** Present while a cancel request waits for the running owner to stop. */
  cancelRequested?: boolean;
  /** Every execution so far and how it ended. */
  history: AttemptRecord[];
  result?: Omit<TaskResult, 'artifacts'> & { artifacts: ArtifactView[] };
  error?: TaskError;
  /** The `cacheTTL` asked for, when it is not 0. */
  cacheTTL?: number;
  /**
   * With a `cacheTTL`: whether the result came from the result cache (no browser ran; its
   * artifacts are the source task's), from which task, and until when that entry answers.
   */
  cache?: { hit: false } | { hit: true; sourceTaskId: string; expiresAt: string };
}

export const toTaskView = (
  task: Task,
  artifactUrls: ReadonlyMap<string, string> = new Map(),
  urlExpiresIn = 0,
): TaskView => ({
  id: task.id,
  type: task.type,
  status: task.status,
  url: task.url,
  options: task.options,
  tier: task.tier,
  createdAt: task.createdAt,
  updatedAt: task.updatedAt,
  ...(task.startedAt === undefined ? {} : { startedAt: task.startedAt }),
  ...(task.endedAt === undefined ? {} : { endedAt: task.endedAt }),
  attempts: task.attempts,
  maxAttempts: task.maxAttempts,
  ...(task.cancelRequested === true && task.status === 'running' ? { cancelRequested: true } : {}),
  history: task.history,
  ...(task.result === undefined
    ? {}
    : {
        result: {
          ...task.result,
          artifacts: task.result.artifacts.map((a) => ({
            name: a.name,
            contentType: a.contentType,
            size: a.size,
            url: artifactUrls.get(a.key) ?? '',
            urlExpiresIn,
          })),
        },
      }),
  ...(task.error === undefined ? {} : { error: task.error }),
  ...(task.cacheTTL === undefined
    ? {}
    : {
        cacheTTL: task.cacheTTL,
        cache: task.cacheHit === undefined ? { hit: false } : { hit: true, ...task.cacheHit },
      }),
});
