import { describe, expect, it } from 'vitest';
import { OneTierDispatcher } from '../../shared/adapters/sqs-task-queue.js';
import { FakeQueue } from '../support/fakes.js';

describe("a runner's dispatcher", () => {
  it("sends to its own tier's queue, and refuses another tier's task without sending", async () => {
    const queue = new FakeQueue();
    const dispatcher = new OneTierDispatcher('lambda', queue);
    await dispatcher.send({ taskId: 't1', tier: 'lambda' }, { delaySeconds: 5 });
    await expect(dispatcher.send({ taskId: 't2', tier: 'fleet' })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    expect(queue.sent).toEqual([{ message: { taskId: 't1', tier: 'lambda' }, delaySeconds: 5 }]);
  });
});
