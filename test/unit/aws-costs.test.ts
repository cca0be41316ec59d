/** The bench's AWS bill per task: calls by service, capacity units (transactions double), list prices. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { awsCost, callsBetween } from '../../bench/aws-costs.js';
import type { CallCount } from '../../local/iam-front.js';
import { authorizationRequests } from '../../local/iam-requests.js';

const c = (
  part: string,
  service: CallCount['service'],
  operation: string,
  calls: number,
  items = calls,
): CallCount => ({
  part,
  service,
  operation,
  calls,
  items,
});

describe('awsCost', () => {
  it('counts requests per task by service, transactional writes at two units an item', () => {
    const cost = awsCost(
      [
        c('fleet-worker', 'dynamodb', 'TransactWriteItems', 10, 30),
        c('fleet-worker', 'dynamodb', 'UpdateItem', 10),
        c('http-create-task', 'dynamodb', 'GetItem', 20),
        c('http-create-task', 'sqs', 'SendMessage', 10),
        c('fleet-worker', 's3', 's3:PutObject', 10),
        c('http-get-task', 's3', 's3:GetObject', 10),
      ],
      10,
    );
    expect(cost.requestsPerTask).toEqual({ dynamodb: 4, sqs: 1, s3: 2, total: 7 });
    expect(cost.capacityUnitsPerTask).toEqual({ read: 2, write: 7 });
    // Per task: 7 WRU × $0.625/M + 2 RRU × $0.125/M + 1 SQS × $0.40/M + PUT $0.005/k + GET $0.0004/k.
    const perTask = 7 * 0.625e-6 + 2 * 0.125e-6 + 0.4e-6 + 0.005e-3 + 0.0004e-3;
    expect(cost.usdPer1000).toBeCloseTo(perTask * 1000, 6);
    expect(Object.keys(cost.operationsPerTask)[0]).toBe('dynamodb GetItem');
  });

  it('callsBetween answers the calls made between two readings, without set-up (admin) calls', () => {
    const before = [c('fleet-worker', 'sqs', 'ReceiveMessage', 5), c('admin', 'dynamodb', 'PutItem', 3)];
    const after = [
      c('fleet-worker', 'sqs', 'ReceiveMessage', 9),
      c('admin', 'dynamodb', 'PutItem', 7),
      c('http-health', 'dynamodb', 'DescribeTable', 1),
    ];
    expect(callsBetween(before, after)).toEqual([
      c('fleet-worker', 'sqs', 'ReceiveMessage', 4),
      c('http-health', 'dynamodb', 'DescribeTable', 1),
    ]);
  });
});

describe('the ledger counts a batch by its items', () => {
  it('judges a BatchGetItem of two keys as two reads of the table', () => {
    const req = {
      headers: { 'x-amz-target': 'DynamoDB_20120810.BatchGetItem' },
    } as unknown as IncomingMessage;
    const body = Buffer.from(
      JSON.stringify({ RequestItems: { state: { Keys: [{ pk: { S: 'a' } }, { pk: { S: 'b' } }] } } }),
    );
    const judged = authorizationRequests('dynamodb', req, body, false);
    expect(judged.map((r) => r.action)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchGetItem']);
    expect(judged[0]?.resource).toMatch(/:table\/state$/);
  });
});
