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
   */
  dynamodb: [
    'transaction-conflict',
    'throughput-exceeded',
    'throttling',
    'internal-error',
    'connection-reset',
    'slow',
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
  const others = kinds.filter((k) => k !== 'transaction-conflict');
  if (service !== 'dynamodb' || operation !== 'TransactWriteItems' || others.length === kinds.length)
    return others;
  if (others.length === 0) return ['transaction-conflict'];
  return [...others, ...others.map(() => 'transaction-conflict')];
};
