/**
 * The local stand-in for an SQS event source mapping: it long-polls a queue (the Lambda
 * tier's, or the webhook queue) and invokes the function (`functions/sqs-run-task`,
 * `functions/sqs-deliver-webhook`) with SQS events shaped as AWS sends them (batch size 1),
 * deleting what the function reports as done and leaving its `batchItemFailures` for
 * redelivery. No business logic lives here.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { LAMBDA_RUNNER, QUEUES } from '../shared/contracts.js';

export interface LocalLambdaTier {
  stop(): Promise<void>;
}

export const startLambdaTier = (options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  concurrency: number;
  onError?: (error: unknown) => void;
  /** The function invoked (default: the Lambda tier's runner) and its timeout. */
  fn?: { functionName: string; timeoutSeconds: number; memoryMb: number };
}): LocalLambdaTier => {
  const fn = options.fn ?? {
    functionName: LAMBDA_RUNNER.functionName,
    timeoutSeconds: QUEUES.lambdaFunctionTimeoutSeconds,
    memoryMb: LAMBDA_RUNNER.memoryMb,
  };
  const polling = new AbortController();

  const invokeOnce = async (): Promise<void> => {
    const out = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: LAMBDA_RUNNER.batchSize,
        WaitTimeSeconds: 20,
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal: polling.signal },
    );
    for (const message of out.Messages ?? []) {
      const started = Date.now();
      const event: SQSEvent = {
        Records: [
          {
            messageId: message.MessageId ?? randomUUID(),
            receiptHandle: message.ReceiptHandle ?? '',
            body: message.Body ?? '',
            attributes: {
              ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
              SentTimestamp: message.Attributes?.SentTimestamp ?? String(started),
              SenderId: message.Attributes?.SenderId ?? 'local',
              ApproximateFirstReceiveTimestamp:
                message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(started),
            },
            messageAttributes: {},
            md5OfBody: message.MD5OfBody ?? '',
            eventSource: 'aws:sqs',
            eventSourceARN: options.queueArn,
            awsRegion: 'us-east-1',
          },
        ],
      };
      const context = {
        callbackWaitsForEmptyEventLoop: false,
        functionName: fn.functionName,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fn.functionName}`,
        memoryLimitInMB: String(fn.memoryMb),
        awsRequestId: randomUUID(),
        logGroupName: `/aws/lambda/${fn.functionName}`,
        logStreamName: 'local',
        getRemainingTimeInMillis: () => Math.max(0, fn.timeoutSeconds * 1000 - (Date.now() - started)),
        done: () => {},
        fail: () => {},
        succeed: () => {},
      } satisfies Context;
      let failed = new Set<string>();
      try {
        const response = await options.handler(event, context);
        failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      } catch (error) {
        // A thrown invocation fails the whole batch: every message comes back.
        options.onError?.(error);
        failed = new Set(event.Records.map((r) => r.messageId));
      }
      for (const record of event.Records) {
        if (!failed.has(record.messageId)) {
          await options.sqs.send(
            new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: record.receiptHandle }),
          );
        }
      }
    }
  };

  const slot = async (): Promise<void> => {
    while (!polling.signal.aborted) {
      try {
        await invokeOnce();
      } catch (error) {
        if (polling.signal.aborted) return;
        options.onError?.(error);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  const slots = Array.from({ length: options.concurrency }, slot);
  return {
    stop: async () => {
      polling.abort();
      await Promise.allSettled(slots);
    },
  };
};
