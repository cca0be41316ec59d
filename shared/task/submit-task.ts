import type { Clock } from '../clock.js';
import { parseOrThrow } from '../validation.js';
import type { TaskQueue, TaskStore } from './ports.js';
import { newTask, type Task } from './task.js';
import { createTaskInputSchema } from './task-input.js';

export interface SubmitTaskDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  newId: () => string;
}

/**
 * Accepts a task: validates the body, writes the row (`queued`) and only then enqueues it.
 * The row is the truth; a message lost between the two is re-sent by the sweeper.
 */
export const submitTask = async (
  deps: SubmitTaskDeps,
  input: { tenantId: string; body: unknown },
): Promise<Task> => {
  const parsed = parseOrThrow(createTaskInputSchema, input.body);
  const task = newTask({
    id: deps.newId(),
    tenantId: input.tenantId,
    type: parsed.type,
    url: parsed.url,
    options: parsed.options,
    now: deps.clock.now(),
  });
  await deps.store.create(task);
  await deps.queue.send({ taskId: task.id });
  return task;
};
