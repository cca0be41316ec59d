import type { Clock } from '../clock.js';
import { ARTIFACT_BUCKET } from '../contracts.js';
import { ERROR_CODES, isBrowserfleetError } from '../errors.js';
import type { ArtifactStore, BrowserRunner, TaskStore } from './ports.js';
import { type Task, type TaskError, type TaskEvent, transition } from './task.js';

export interface RunTaskDeps {
  store: TaskStore;
  browser: BrowserRunner;
  artifacts: ArtifactStore;
  clock: Clock;
  /** Identifies this worker in the lease. */
  workerId: string;
  /** Added to the task's own deadline to size the lease: room to store and complete. */
  leaseGraceMs: number;
}

export type RunOutcome =
  | { kind: 'succeeded'; task: Task }
  | { kind: 'failed'; task: Task }
  /** Nothing to do: the task is gone or already ended. The message can go. */
  | { kind: 'settled'; reason: 'missing' | 'already-final' }
  /** Another worker holds a live lease. The message must stay, in case that worker dies. */
  | { kind: 'lease-held' }
  /** Our lease was taken over while we worked; nothing of ours became visible. */
  | { kind: 'lease-lost' };

/** Whether the queue message that carried this run can be deleted. */
export const messageIsDone = (outcome: RunOutcome): boolean => outcome.kind !== 'lease-held';

const toTaskError = (error: unknown): TaskError =>
  isBrowserfleetError(error)
    ? { code: error.code, message: error.message }
    : { code: ERROR_CODES.INTERNAL, message: 'The browser work failed unexpectedly.' };

/**
 * Runs one task: claim the lease (conditional write), drive the browser under the task's
 * deadline, store the artifact under a key that carries the fencing token, then complete
 * the row only if that token still holds. `shutdown` aborts the browser work early.
 */
export const runTask = async (
  deps: RunTaskDeps,
  input: { taskId: string; shutdown?: AbortSignal; onError?: (error: unknown) => void },
): Promise<RunOutcome> => {
  const current = await deps.store.get(input.taskId);
  if (current === undefined) return { kind: 'settled', reason: 'missing' };

  const leaseMs = current.options.timeoutMs + deps.leaseGraceMs;
  const claim = transition(current, { kind: 'claim', owner: deps.workerId, leaseMs }, deps.clock.now());
  if (!claim.ok) {
    return claim.reason === 'lease-held'
      ? { kind: 'lease-held' }
      : { kind: 'settled', reason: 'already-final' };
  }
  const claimed = await deps.store.save(claim.task, {
    status: current.status,
    leaseToken: current.leaseToken,
  });
  if (!claimed.saved) return { kind: 'lease-held' };

  const running = claim.task;
  const deadline = AbortSignal.timeout(running.options.timeoutMs);
  const signal = input.shutdown ? AbortSignal.any([deadline, input.shutdown]) : deadline;

  let event: TaskEvent;
  try {
    const output = await deps.browser.run(
      { type: running.type, url: running.url, options: running.options },
      signal,
    );
    const stored = [];
    for (const artifact of output.artifacts) {
      const key = ARTIFACT_BUCKET.key(running.id, running.leaseToken, artifact.name);
      await deps.artifacts.put(key, artifact.body, artifact.contentType);
      stored.push({
        name: artifact.name,
        contentType: artifact.contentType,
        size: artifact.body.byteLength,
        key,
      });
    }
    event = {
      kind: 'succeed',
      leaseToken: running.leaseToken,
      result: {
        artifacts: stored,
        finalUrl: output.finalUrl,
        ...(output.httpStatus === undefined ? {} : { httpStatus: output.httpStatus }),
      },
    };
  } catch (error) {
    input.onError?.(error);
    event = { kind: 'fail', leaseToken: running.leaseToken, error: toTaskError(error) };
  }

  const ended = transition(running, event, deps.clock.now());
  if (!ended.ok) return { kind: 'lease-lost' };
  const saved = await deps.store.save(ended.task, {
    status: 'running',
    leaseToken: running.leaseToken,
  });
  if (!saved.saved) return { kind: 'lease-lost' };
  return ended.task.status === 'succeeded'
    ? { kind: 'succeeded', task: ended.task }
    : { kind: 'failed', task: ended.task };
};
