/**
 * The faults AWS answers under pressure, service by service, and each one's answer in the
 * service's own wire shape (DynamoDB's and SQS's JSON protocol, S3's REST XML), so the SDK
 * raises the very exception it would on AWS. Knows nothing of the product.
 */
import { randomUUID } from 'node:crypto';

export type FaultService = 'dynamodb' | 'sqs' | 's3';

/** What each service can be made to answer, and where AWS answers it. */
export const FAULT_KINDS = {
  /**
   * - transaction-conflict: a TransactWriteItems cancelled because another write touched one
   *   of its items (400 TransactionCanceledException, CancellationReasons [..TransactionConflict..]).
   * - throughput-exceeded: 400 ProvisionedThroughputExceededException (a hot partition).
   * - throttling: 400 ThrottlingException.
   * - internal-error: 500 InternalServerError.
   * - unprocessed-keys: a BatchGetItem of two keys or more answered in part, its last key
   *   left in `UnprocessedKeys` (DynamoDB's 200 when a batch meets the throughput limit
   *   on some of its items: at least one is read, or it would be the 400 above).
   */
  dynamodb: [
    'transaction-conflict',
    'throughput-exceeded',
    'throttling',
    'internal-error',
    'connection-reset',
    'slow',
    'unprocessed-keys',
  ],
  /** SQS's JSON protocol: RequestThrottled (403) and InternalFailure (500), query-compatible. */
  sqs: ['throttling', 'internal-error', 'connection-reset', 'slow'],
  /** S3's REST XML: 503 SlowDown and 500 InternalError. */
  s3: ['slow-down', 'internal-error', 'connection-reset', 'slow'],
} as const satisfies Record<FaultService, readonly string[]>;

export type FaultKind = (typeof FAULT_KINDS)[FaultService][number];

export const ALL_FAULT_KINDS: ReadonlySet<string> = new Set(Object.values(FAULT_KINDS).flat());

/** What a front answers instead of forwarding. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const json = (
  contentType: string,
  status: number,
  body: object,
  extra: Record<string, string> = {},
): Answer => ({
  status,
  headers: { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), ...extra },
  body: JSON.stringify(body),
});

const AWS_JSON_1_0 = 'application/x-amz-json-1.0';
const dynamoError = (status: number, type: string, message: string, more: object = {}) =>
  json(AWS_JSON_1_0, status, { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...more });

/** `[None, TransactionConflict, None]`: one item of the transaction conflicted, as DynamoDB tells it. */
const transactionCancelled = (items: number, conflicting: number): Answer => {
  const reasons = Array.from({ length: Math.max(items, 1) }, (_, i) =>
    i === conflicting
      ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
      : { Code: 'None' },
  );
  return json(AWS_JSON_1_0, 400, {
    __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
  });
};

/** SQS's JSON protocol is query-compatible: the old error code rides in `x-amzn-query-error`. */
const sqsError = (status: number, type: string, queryCode: string, message: string) =>
  json(
    AWS_JSON_1_0,
    status,
    { __type: `com.amazonaws.sqs#${type}`, message },
    { 'x-amzn-query-error': queryCode },
  );

const s3Error = (status: number, code: string, message: string): Answer => {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId>` +
      `<HostId>${Buffer.from(requestId).toString('base64')}</HostId></Error>`,
  };
};

/** The answer of a refusing kind (`slow` and `connection-reset` have none). */
export const refusal = (service: FaultService, kind: string, body: Buffer, random: () => number): Answer => {
  if (service === 'dynamodb') {
    switch (kind) {
      case 'transaction-conflict': {
        const items = transactItemCount(body);
        return transactionCancelled(items, Math.floor(random() * items));
      }
      case 'throughput-exceeded':
        return dynamoError(
          400,
          'ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded. ' +
            'Consider increasing your provisioning level with the UpdateTable API.',
        );
      case 'throttling':
        return dynamoError(400, 'ThrottlingException', 'Rate of requests exceeds the allowed throughput.');
      default:
        return dynamoError(500, 'InternalServerError', 'Internal server error');
    }
  }
  if (service === 'sqs') {
    return kind === 'throttling'
      ? sqsError(403, 'RequestThrottled', 'RequestThrottled;Sender', 'Rate exceeded')
      : sqsError(
          500,
          'InternalFailure',
          'InternalFailure;Receiver',
          'We encountered an internal error. Please try again.',
        );
  }
  return kind === 'slow-down'
    ? s3Error(503, 'SlowDown', 'Please reduce your request rate.')
    : s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
};

const transactItemCount = (body: Buffer): number => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { TransactItems?: unknown[] };
    return Array.isArray(parsed.TransactItems) ? parsed.TransactItems.length : 1;
  } catch {
    return 1;
  }
};

/**
 * The kinds a request can meet, each as often as the others — except that a transaction's
 * faults are half conflicts: that is what a transaction on a contended item mostly meets,
 * and the rarest outcome would otherwise be the one most worth provoking.
 */
export const applicable = (service: FaultService, operation: string, kinds: readonly string[]): string[] => {
  // Only a batch read can be answered in part.
  if (operation !== 'BatchGetItem') kinds = kinds.filter((k) => k !== 'unprocessed-keys');
  const others = kinds.filter((k) => k !== 'transaction-conflict');
  if (service !== 'dynamodb' || operation !== 'TransactWriteItems' || others.length === kinds.length)
    return others;
  if (others.length === 0) return ['transaction-conflict'];
  return [...others, ...others.map(() => 'transaction-conflict')];
};

type BatchGetBody = { RequestItems?: Record<string, { Keys?: unknown[] }> };

/**
 * A BatchGetItem split for `unprocessed-keys`: the request to forward without the last key
 * of its last table, and the answer's rewrite that names that key unprocessed. `undefined`
 * for a batch of one key (that one would be refused whole, not answered in part).
 */
export const splitBatchGet = (
  body: Buffer,
): { forward: Buffer; rewrite: (answer: Buffer) => Buffer } | undefined => {
  let parsed: BatchGetBody;
  try {
    parsed = JSON.parse(body.toString('utf8')) as BatchGetBody;
  } catch {
    return undefined;
  }
  const tables = Object.entries(parsed.RequestItems ?? {});
  const keys = tables.reduce((n, [, t]) => n + (t.Keys?.length ?? 0), 0);
  const last = tables.findLast(([, t]) => (t.Keys?.length ?? 0) > 0);
  if (keys < 2 || last === undefined) return undefined;
  const [table, request] = last;
  const held = request.Keys?.at(-1);
  const rest = (request.Keys ?? []).slice(0, -1);
  const items = { ...parsed.RequestItems };
  if (rest.length === 0) delete items[table];
  else items[table] = { ...request, Keys: rest };
  return {
    forward: Buffer.from(JSON.stringify({ ...parsed, RequestItems: items })),
    rewrite: (answer) => {
      const out = JSON.parse(answer.toString('utf8')) as {
        UnprocessedKeys?: Record<string, { Keys?: unknown[] }>;
      };
      const left = out.UnprocessedKeys?.[table];
      out.UnprocessedKeys = {
        ...out.UnprocessedKeys,
        [table]: { ...request, Keys: [...(left?.Keys ?? []), held] },
      };
      return Buffer.from(JSON.stringify(out));
    },
  };
};
