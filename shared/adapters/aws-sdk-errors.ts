/**
 * What AWS says under pressure, in the error family. A call the SDK gave up on after its own
 * retries (throttled, a 5xx, a reset connection or a timeout) becomes `THROTTLED` or
 * `DEPENDENCY_UNAVAILABLE` with the SDK's error as `cause`: retried by the task engine and a
 * 503 over HTTP, never a 500 for the client's request. Every other SDK error (a failed
 * condition, a cancelled transaction, a missing object) passes unchanged, for the adapter
 * that called to read. Installed once per client, by each service's client factory
 * (`dynamodb-client.ts`, `sqs-client.ts`, `s3-client.ts`, …).
 */
import { BrowserfleetError, ERROR_CODES } from '../errors.js';

/** Error names AWS services use for "slow down" (DynamoDB, SQS's JSON and query forms, S3). */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);

/** Connection-level failures the SDK raises without an HTTP answer. */
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError']);

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The family's form of an SDK error the caller can't act on, or the error itself. */
export const translateSdkError = (service: string, error: unknown): unknown => {
  if (error instanceof BrowserfleetError || typeof error !== 'object' || error === null) return error;
  const e = error as SdkError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING.has(name) || status === 429) {
    return new BrowserfleetError(
      ERROR_CODES.THROTTLED,
      `${service} is throttling requests; try again shortly.`,
      {
        cause: error,
      },
    );
  }
  if ((status !== undefined && status >= 500) || NETWORK.has(name) || NETWORK.has(e.code ?? '')) {
    return new BrowserfleetError(
      ERROR_CODES.DEPENDENCY_UNAVAILABLE,
      `${service} did not answer; try again shortly.`,
      {
        cause: error,
      },
    );
  }
  return error;
};

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority?: 'high' | 'low' },
    ): void;
  };
}

/** Wraps every call of `client` so what outlasts the SDK's retries arrives translated. */
export const translateSdkErrorsOf = <C>(client: C, service: string): C => {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw translateSdkError(service, error);
      }
    },
    // Outermost: it sees the error the retry strategy finally gave up on.
    { step: 'initialize', name: 'browserfleetTranslateErrors', priority: 'high' },
  );
  return client;
};
