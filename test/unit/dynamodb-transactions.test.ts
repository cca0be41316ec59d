/**
 * Transactions DynamoDB cancels for a conflicting write (review finding 3 of issue 11): every
 * status change moves the tenant's one usage item in the same transaction, so a busy tenant's
 * transitions conflict; each `TransactWriteItems` caller sends such a transaction again, a
 * few times with full-jitter backoff, and raises a retryable THROTTLED when the item stays
 * contended. A failed condition keeps its meaning and is never sent again.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbConnectionStore } from '../../shared/adapters/dynamodb-connection-store.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTaskStore } from '../../shared/adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import {
  DEFAULT_TRANSACTION_RETRY,
  type TransactionRetryPolicy,
  transactWrite,
} from '../../shared/adapters/dynamodb-transactions.js';
import { putOnVersion } from '../../shared/adapters/dynamodb-versioned-rows.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { newSession } from '../../shared/session/session.js';
import { classifyError } from '../../shared/task/retry-policy.js';
import { newTask, transition } from '../../shared/task/task.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const SESSION_OPTIONS = {
  timeoutMs: 60_000,
  idleTimeoutMs: 10_000,
  viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
};

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

/** A client that answers each TransactWriteItems from `script` (then succeeds) and any other command with `{}`. */
const scriptedClient = (script: Error[]) => {
  const sent: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      if (command.constructor.name !== 'TransactWriteCommand') return { Item: { hash: 'h', prefix: 'bf_x' } };
      const next = script.shift();
      if (next !== undefined) throw next;
      return {};
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, transactions: () => sent.filter((n) => n === 'TransactWriteCommand').length };
};

/** Full jitter at its ceiling (random just under 1), sleeps recorded instead of waited. */
const recording = (): TransactionRetryPolicy & { slept: number[] } => {
  const slept: number[] = [];
  return {
    ...DEFAULT_TRANSACTION_RETRY,
    random: () => 0.999_999,
    sleep: async (ms) => void slept.push(ms),
    slept,
  };
};

const queued = newTask({
  id: 't1',
  tenantId: 'ten',
  spec: { type: 'screenshot', options: screenshotOptionsSchema.parse({}) },
  url: 'http://example.test/',
  now: T0,
});
const claim = transition(queued, { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0);
if (!claim.ok) throw new Error(claim.reason);
const running = claim.task;
const usageUpdate = {
  Update: {
    TableName: 'state',
    Key: { pk: 'USAGE#ten', sk: 'USAGE' },
    UpdateExpression: 'ADD running :d',
    ExpressionAttributeValues: { ':d': 1 },
  },
};

describe('a plain write refused for a transaction in progress on its item', () => {
  it('a versioned Put (a session going live while its close is written) is sent again and lands', async () => {
    let refusals = 2;
    const sent: string[] = [];
    const client = {
      send: async (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        if (refusals-- > 0) {
          throw Object.assign(new Error('Transaction is ongoing for the item'), {
            name: 'TransactionConflictException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return {};
      },
    } as unknown as DynamoDBDocumentClient;
    await expect(putOnVersion(client, 'state', { pk: 'SESSION#s1', sk: 'S' }, 1)).resolves.toEqual({
      saved: true,
    });
    expect(sent).toEqual(['PutCommand', 'PutCommand', 'PutCommand']);
  });
});

describe('DynamoDB transactions cancelled for a conflict', () => {
  it('a versioned write whose transaction conflicts twice lands on the third send', async () => {
    const { client, transactions } = scriptedClient([
      cancelled('None', 'TransactionConflict'),
      cancelled('TransactionConflict', 'None'),
    ]);
    await expect(
      putOnVersion(client, 'state', { pk: 'TASK#t1', sk: 'TASK' }, 1, usageUpdate),
    ).resolves.toEqual({
      saved: true,
    });
    expect(transactions()).toBe(3);
  });

  it("a task's status change (the run's final write, a claim) survives a conflict on the usage row", async () => {
    const { client, transactions } = scriptedClient([cancelled('None', 'TransactionConflict')]);
    await expect(
      new DynamoDbTaskStore(client, 'state').save(running, queued, { maxRunning: 5 }),
    ).resolves.toEqual({
      saved: true,
    });
    expect(transactions()).toBe(2);
  });

  it.each([
    [
      'task submit',
      (c: DynamoDBDocumentClient) => new DynamoDbTaskStore(c, 'state').create(queued, { maxQueued: 5 }),
    ],
    [
      'session create',
      (c: DynamoDBDocumentClient) =>
        new DynamoDbSessionStore(c, 'state').create(
          newSession({ id: 's1', tenantId: 'ten', options: SESSION_OPTIONS, now: T0 }),
          { maxLive: 5 },
        ),
    ],
    [
      'API key create',
      (c: DynamoDBDocumentClient) =>
        new DynamoDbTenantStore(c, 'state').putKey({
          hash: 'h',
          prefix: 'bf_x',
          tenantId: 'ten',
          name: 'k',
          createdAt: new Date(T0).toISOString(),
        }),
    ],
    [
      'API key revoke',
      (c: DynamoDBDocumentClient) => new DynamoDbTenantStore(c, 'state').revokeKey('ten', 'bf_x', 'now'),
    ],
    [
      'connection attach',
      (c: DynamoDBDocumentClient) =>
        new DynamoDbConnectionStore(c, 'state', () => 0).attach(
          { connectionId: 'c1', tenantId: 'ten', connectedAt: 0 } as never,
          { tenantId: 'ten', id: 's1' },
        ),
    ],
  ])('%s sends its transaction again after a conflict', async (_name, write) => {
    const { client, transactions } = scriptedClient([cancelled('TransactionConflict', 'None')]);
    await write(client);
    expect(transactions()).toBe(2);
  });

  it('a failed condition keeps its meaning and is not sent again, even beside a conflict', async () => {
    const { client, transactions } = scriptedClient([
      cancelled('TransactionConflict', 'ConditionalCheckFailed'),
    ]);
    await expect(
      putOnVersion(client, 'state', { pk: 'TASK#t1', sk: 'TASK' }, 1, usageUpdate),
    ).resolves.toEqual({
      saved: false,
      refusedAlongside: true,
    });
    expect(transactions()).toBe(1);

    const submit = scriptedClient([cancelled('ConditionalCheckFailed', 'None')]);
    await expect(new DynamoDbTaskStore(submit.client, 'state').create(queued)).rejects.toMatchObject({
      code: ERROR_CODES.CONFLICT,
    });
    expect(submit.transactions()).toBe(1);
  });

  it('a cancellation for another reason (throttled inside the transaction) goes back as it came', async () => {
    const error = cancelled('ThrottlingError', 'None');
    const { client, transactions } = scriptedClient([error]);
    await expect(transactWrite(client, [usageUpdate], recording())).rejects.toBe(error);
    expect(transactions()).toBe(1);
  });

  it('an item that stays contended raises a retryable THROTTLED with the cancellation as cause, after backing off with full jitter', async () => {
    const policy = recording();
    const conflicts = Array.from({ length: 10 }, () => cancelled('None', 'TransactionConflict'));
    const { client, transactions } = scriptedClient(conflicts);
    const error = await transactWrite(client, [usageUpdate], policy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrowserfleetError);
    expect(error).toMatchObject({ code: ERROR_CODES.THROTTLED });
    expect((error as Error).cause).toBeInstanceOf(TransactionCanceledException);
    expect(classifyError(error).retryable).toBe(true);
    expect(transactions()).toBe(policy.maxAttempts);
    // At the top of each full-jitter window: base·2^(n−1), capped.
    expect(policy.slept).toEqual([25, 50, 100, 200, 400]);
  });
});
