/**
 * The DLQ backstop and the operator's path: a message received maxReceiveCount times moves
 * to the DLQ; `npm run dlq -- inspect` lists without consuming; `redrive` moves back.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { SqsTaskQueue } from '../../shared/adapters/sqs-task-queue.js';
import { QUEUES } from '../../shared/contracts.js';
import type { ReceivedMessage } from '../../shared/core/fleet-queue.js';
import { postponeMessage } from '../../shared/task/postpone-message.js';
import { startTestCloud } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let clients: AwsClients;
beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false, webhooks: false });
  clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
});
afterAll(async () => {
  destroyAwsClients(clients);
  await cloud?.dispose();
});

const receiveOne = async (queueUrl: string) =>
  (
    await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    )
  ).Messages?.[0];

const dlqCli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'ops/dlq.ts', ...args], {
    env: { ...process.env, STAGE: 'local', AWS_ENDPOINT_URL_SQS: cloud.endpoints.sqs },
  });

describe('dead letters', () => {
  it(`a message received up to ${QUEUES.maxReceiveCount} times without being deleted moves to the DLQ`, async () => {
    const { fleetQueueUrl, fleetDlqUrl } = cloud.names;
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: fleetQueueUrl, MessageBody: '{"taskId":"poison"}' }),
    );
    let receives = 0;
    for (let i = 0; i <= QUEUES.maxReceiveCount; i++) {
      const m = await receiveOne(fleetQueueUrl);
      if (m === undefined) break;
      expect(m.Body).toBe('{"taskId":"poison"}');
      receives++;
      await clients.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: fleetQueueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    // Real SQS moves it on the receive after the 5th; local-aws-sqs also counts the
    // ChangeMessageVisibility calls in between and moves it sooner. Either way: never more.
    expect(receives).toBeGreaterThan(0);
    expect(receives).toBeLessThanOrEqual(QUEUES.maxReceiveCount);
    expect(await receiveOne(fleetQueueUrl)).toBeUndefined();
    const dead = await receiveOne(fleetDlqUrl);
    expect(dead?.Body).toBe('{"taskId":"poison"}');
    await clients.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: fleetDlqUrl,
        ReceiptHandle: dead?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  });

  it('inspect lists dead letters and leaves them; redrive moves them back to the tier queue', async () => {
    const { fleetDlqUrl, fleetQueueUrl } = cloud.names;
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: fleetDlqUrl, MessageBody: '{"taskId":"t-2"}' }),
    );
    for (let i = 0; i < 2; i++) {
      const listed = JSON.parse((await dlqCli('inspect', '--tier', 'fleet')).stdout);
      expect(listed.map((m: { body: string }) => m.body).sort()).toEqual([
        '{"taskId":"poison"}',
        '{"taskId":"t-2"}',
      ]);
    }
    expect(JSON.parse((await dlqCli('redrive', '--tier', 'fleet')).stdout)).toEqual({ moved: 2 });
    expect(JSON.parse((await dlqCli('inspect')).stdout)).toEqual([]);
    const bodies = [(await receiveOne(fleetQueueUrl))?.Body, (await receiveOne(fleetQueueUrl))?.Body].sort();
    expect(bodies).toEqual(['{"taskId":"poison"}', '{"taskId":"t-2"}']);
    await expect(dlqCli('explode')).rejects.toMatchObject({ code: 2 });
  });
  it("the webhook events' DLQ: inspect lists them; redrive sends them back with their attempts started over", async () => {
    const { webhookDlqUrl, webhookQueueUrl } = cloud.names;
    const dead = {
      eventId: 'msg_session_s1',
      type: 'session.ended',
      tenantId: 't1',
      sessionId: 's1',
      attempt: 8,
    };
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: webhookDlqUrl, MessageBody: JSON.stringify(dead) }),
    );
    const listed = JSON.parse((await dlqCli('inspect', '--queue', 'webhooks')).stdout);
    expect(listed.map((m: { body: string }) => JSON.parse(m.body))).toEqual([dead]);
    expect(JSON.parse((await dlqCli('redrive', '--queue', 'webhooks')).stdout)).toEqual({ moved: 1 });
    const { attempt: _attempt, ...first } = dead;
    expect(JSON.parse((await receiveOne(webhookQueueUrl))?.Body ?? '{}')).toEqual(first);
    expect(await receiveOne(webhookDlqUrl)).toBeUndefined();
    await expect(dlqCli('inspect', '--queue', 'nowhere')).rejects.toMatchObject({ code: 2 });
  });

  it(`a message postponed ${QUEUES.maxReceiveCount * 2} times (a quota or slot wait) never reaches the DLQ`, async () => {
    // Runs after the redrive test, which leaves the DLQ empty.
    const { fleetQueueUrl, fleetDlqUrl } = cloud.names;
    const queue = new SqsTaskQueue(clients.sqs, fleetQueueUrl);
    await queue.send({ taskId: 'waiting' });
    for (let i = 0; i < QUEUES.maxReceiveCount * 2; i++) {
      const [received] = await queue.receive({ waitSeconds: 1 });
      expect(received?.message).toEqual({ taskId: 'waiting' });
      await postponeMessage(queue, received as ReceivedMessage, 0);
    }
    const [last] = await queue.receive({ waitSeconds: 1 });
    expect(last?.message).toEqual({ taskId: 'waiting' });
    await queue.delete(last?.receipt as string);
    expect(await receiveOne(fleetDlqUrl)).toBeUndefined();
  });
});
