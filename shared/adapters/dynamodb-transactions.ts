/**
 * The one way the DynamoDB adapters send a `TransactWriteItems`. DynamoDB cancels a
 * transaction with the reason `TransactionConflict` when another write touches one of its
 * items at the same moment — the tenant's one `USAGE#` item is touched by every status change
 * of a busy tenant, so that is an ordinary answer, not an error. The SDK does not retry it
 * (a `TransactionCanceledException` is a 400 it doesn't classify as transient), so this does,
 * a few times with full-jitter backoff; a cancelled transaction applied nothing, so sending it
 * again is safe. Any other cancellation (a condition that failed) goes back to the caller
 * unchanged: it means something, and only the caller knows what.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { type BackoffPolicy, backoffDelayMs } from '../task/retry-policy.js';

export type TransactItems = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>;

export interface TransactionRetryPolicy {
  /** Sends in all, the first included. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Six sends over at most ~1.6 s of waiting (ceilings 25, 50, 100, 200, 400, 800 ms): a
 * conflict lasts as long as the other writer's transaction, a few ms; one still there after
 * that is contention a caller should back off from (its own retry, or a 503 to the client).
 */
export const DEFAULT_TRANSACTION_RETRY: TransactionRetryPolicy = {
  maxAttempts: 6,
  backoff: { baseMs: 25, capMs: 800 },
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A cancellation to send again: some item conflicted and no condition failed. (A failed
 * condition alongside a conflict is still the caller's answer: the row moved on.)
 */
export const isTransactionConflict = (error: unknown): error is TransactionCanceledException => {
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
  return codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
};

/**
 * Sends one transaction, sending it again while DynamoDB cancels it for a conflict. After
 * `maxAttempts` conflicts it raises `THROTTLED` (retryable; a 503 over HTTP) with the last
 * cancellation as its cause. Every other error, a `TransactionCanceledException` for a failed
 * condition included, is rethrown as it came.
 */
export const transactWrite = (
  client: DynamoDBDocumentClient,
  items: TransactItems,
  policy: TransactionRetryPolicy = DEFAULT_TRANSACTION_RETRY,
): Promise<void> =>
  sendAgainOnConflict(
    async () => {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
    },
    isTransactionConflict,
    policy,
  );

/**
 * What DynamoDB answers a plain write (Put, Update, Delete) on an item that a transaction is
 * writing at that moment: nothing was applied, and the SDK doesn't retry it.
 */
export const isWriteConflict = (error: unknown): boolean =>
  (error as { name?: unknown } | null)?.name === 'TransactionConflictException';

/**
 * Sends one plain write, sending it again while DynamoDB refuses it for a transaction in
 * progress on the same item (a session's live write against its close, a heartbeat against
 * a status change), as `transactWrite` does for transactions.
 */
export const writeRetryingConflicts = <T>(
  send: () => Promise<T>,
  policy: TransactionRetryPolicy = DEFAULT_TRANSACTION_RETRY,
): Promise<T> => sendAgainOnConflict(send, isWriteConflict, policy);

const sendAgainOnConflict = async <T>(
  send: () => Promise<T>,
  isConflict: (error: unknown) => boolean,
  policy: TransactionRetryPolicy,
): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt >= policy.maxAttempts) {
        throw new BrowserfleetError(
          ERROR_CODES.THROTTLED,
          `DynamoDB refused the write ${attempt} times for a conflicting write on the same item ` +
            '(TransactionConflict); the item is contended, try again shortly.',
          // Retryable by the code's default: contention passes.
          { cause: error },
        );
      }
      await policy.sleep(backoffDelayMs(attempt, policy.backoff, policy.random));
    }
  }
};
