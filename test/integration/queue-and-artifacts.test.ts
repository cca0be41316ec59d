import { getEventListeners } from 'node:events';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { S3ArtifactStore } from '../../shared/adapters/s3-artifact-store.js';
import { SqsTaskQueue } from '../../shared/adapters/sqs-task-queue.js';
import { startTestCloud } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let clients: AwsClients;
beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false });
  clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
});
afterAll(async () => {
  destroyAwsClients(clients);
  await cloud?.dispose();
});

describe('SQS task queue', () => {
  it('sends, receives and deletes a task message', async () => {
    const queue = new SqsTaskQueue(clients.sqs, cloud.names.fleetQueueUrl);
    await queue.send({ taskId: 'task-1' });
    const [received] = await queue.receive({ waitSeconds: 5 });
    expect(received?.message).toEqual({ taskId: 'task-1' });
    await queue.delete(received?.receipt ?? '');
    const attrs = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: cloud.names.fleetQueueUrl, AttributeNames: ['All'] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('skips and reports a message that is not a task message', async () => {
    const seen: (string | undefined)[] = [];
    const queue = new SqsTaskQueue(clients.sqs, cloud.names.fleetQueueUrl, (body) => seen.push(body));
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: cloud.names.fleetQueueUrl, MessageBody: '{"nope":1}' }),
    );
    expect(await queue.receive({ waitSeconds: 5 })).toEqual([]);
    expect(seen).toEqual(['{"nope":1}']);
  });

  it("leaves no listener on the worker's long-lived polling signal after a receive", async () => {
    const queue = new SqsTaskQueue(clients.sqs, cloud.names.fleetQueueUrl);
    const polling = new AbortController();
    for (const taskId of ['task-a', 'task-b', 'task-c']) {
      await queue.send({ taskId });
      const [received] = await queue.receive({ waitSeconds: 5, signal: polling.signal });
      expect(received?.message).toEqual({ taskId });
      await queue.delete(received?.receipt ?? '');
    }
    // One left per receive would be one per message a worker ever took, for its whole life.
    expect(getEventListeners(polling.signal, 'abort')).toHaveLength(0);
  });

  // Last in this queue's tests: the emulator may keep serving the abandoned poll.
  it('answers an aborted long poll at once with no messages', async () => {
    const queue = new SqsTaskQueue(clients.sqs, cloud.names.fleetQueueUrl);
    const controller = new AbortController();
    const started = Date.now();
    const poll = queue.receive({ waitSeconds: 20, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await poll).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('S3 artifact store', () => {
  it('stores bytes and hands out an expiring presigned URL that downloads them', async () => {
    const store = new S3ArtifactStore(clients.s3, cloud.names.artifactBucket);
    const bytes = new Uint8Array([1, 2, 3, 250, 251]);
    await store.put('tasks/x/1/blob.bin', bytes, 'application/octet-stream');
    const url = await store.presignGet('tasks/x/1/blob.bin', 120);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('120');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });
});
