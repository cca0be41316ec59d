/**
 * AWS requests and what they cost, from the IAM front's ledger of calls (local/iam-front.ts):
 * per task, by service and operation, and in dollars per 1,000 tasks at list prices.
 *
 * Prices: us-east-1, on-demand, as AWS lists them (DynamoDB on-demand since its November
 * 2024 cut): DynamoDB $0.625 per million write request units and $0.125 per million read
 * request units; SQS standard queues $0.40 per million requests (each 64 KB of a payload is
 * one request; the bench's are far smaller); S3 Standard $0.005 per 1,000 PUT, COPY, POST or
 * LIST requests and $0.0004 per 1,000 GET and all other requests. Free tiers are left out.
 *
 * Capacity units are counted as items of at most 1 KB (the state table's rows are): a write
 * is one write unit, a transactional write two; a strongly consistent read is one read unit,
 * a transactional read two, and a Query is counted as one unit per call (the pages it reads
 * are small). The ledger can't see item sizes, so this is a floor, not a bill.
 */
import type { CallCount } from '../local/iam-front.js';

export const PRICES_USD = {
  region: 'us-east-1',
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  sqsRequest: 0.4 / 1e6,
  s3PutLike: 0.005 / 1e3,
  s3GetLike: 0.0004 / 1e3,
} as const;

const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const DYNAMO_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const S3_PUT_LIKE = new Set(['s3:PutObject', 's3:ListBucket', 's3:CopyObject']);

export interface AwsCost {
  /** Calls per task by service, and their sum. */
  requestsPerTask: { dynamodb: number; sqs: number; s3: number; total: number };
  /** Calls per task by `service operation`, the biggest first. */
  operationsPerTask: Record<string, number>;
  capacityUnitsPerTask: { read: number; write: number };
  usdPer1000: number;
}

/** The calls made between two readings of the ledger (`admin`'s left out: set-up, not the platform). */
export const callsBetween = (before: CallCount[], after: CallCount[]): CallCount[] => {
  const key = (c: CallCount) => `${c.part} ${c.service} ${c.operation}`;
  const earlier = new Map(before.map((c) => [key(c), c]));
  return after
    .filter((c) => c.part !== 'admin')
    .map((c) => ({
      ...c,
      calls: c.calls - (earlier.get(key(c))?.calls ?? 0),
      items: c.items - (earlier.get(key(c))?.items ?? 0),
    }))
    .filter((c) => c.calls > 0);
};

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export const awsCost = (calls: CallCount[], tasks: number): AwsCost => {
  const requests = { dynamodb: 0, sqs: 0, s3: 0 };
  const operations = new Map<string, number>();
  let read = 0;
  let write = 0;
  let usd = 0;
  for (const c of calls) {
    requests[c.service] += c.calls;
    const name = `${c.service} ${c.operation}`;
    operations.set(name, (operations.get(name) ?? 0) + c.calls);
    if (c.service === 'dynamodb') {
      if (c.operation === 'TransactWriteItems') write += 2 * c.items;
      else if (c.operation === 'TransactGetItems') read += 2 * c.items;
      else if (DYNAMO_WRITES.has(c.operation)) write += c.items;
      else if (DYNAMO_READS.has(c.operation)) read += c.items;
    } else if (c.service === 'sqs') {
      usd += c.calls * PRICES_USD.sqsRequest;
    } else {
      usd += c.calls * (S3_PUT_LIKE.has(c.operation) ? PRICES_USD.s3PutLike : PRICES_USD.s3GetLike);
    }
  }
  usd += write * PRICES_USD.dynamoWriteUnit + read * PRICES_USD.dynamoReadUnit;
  const per = (n: number) => round(n / tasks);
  return {
    requestsPerTask: {
      dynamodb: per(requests.dynamodb),
      sqs: per(requests.sqs),
      s3: per(requests.s3),
      total: per(requests.dynamodb + requests.sqs + requests.s3),
    },
    operationsPerTask: Object.fromEntries(
      [...operations.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, per(n)]),
    ),
    capacityUnitsPerTask: { read: per(read), write: per(write) },
    usdPer1000: round((usd / tasks) * 1000, 6),
  };
};
