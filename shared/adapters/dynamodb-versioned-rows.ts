/**
 * What the task and session stores share: rows that carry the sparse sweep index's keys
 * while live, and writes conditioned on the row's `version` (optimistic concurrency), alone
 * or in one transaction with a usage-counter update.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE } from '../contracts.js';
import { type TransactItems, transactWrite, writeRetryingConflicts } from './dynamodb-transactions.js';

export type Item = Record<string, NativeAttributeValue>;

const { sweepIndex } = STATE_TABLE;

/** A row of `entity` under its keys, with the sweep index's keys when it is due for a sweep. */
export const toRow = (
  keys: { pk: string; sk: string },
  entity: string,
  value: object,
  sweep: { pk: string; dueAt: number | undefined },
): Item => ({
  ...keys,
  entity,
  ...value,
  ...(sweep.dueAt === undefined
    ? {}
    : { [sweepIndex.partitionKey]: sweep.pk, [sweepIndex.sortKey]: sweep.dueAt }),
});

/** The value a row holds, without its table and index keys. */
export const fromRow = <T>(item: Item): T => {
  const {
    pk: _pk,
    sk: _sk,
    entity: _entity,
    [sweepIndex.partitionKey]: _gpk,
    [sweepIndex.sortKey]: _gsk,
    ...value
  } = item;
  return value as T;
};

export type VersionedWrite<T> =
  | { saved: true }
  /** The row moved on (or is gone): here it is as it stands, without a second read. */
  | { saved: false; current: T | undefined }
  /** The other half of the transaction (a usage counter's limit) refused it. */
  | { saved: false; refusedAlongside: true };

/**
 * Puts `item` only if the stored row is still at `version`; with `alongside`, in one
 * transaction with that update (a tenant's usage counters), so both land or neither does.
 * A transaction DynamoDB cancels for a conflicting write is sent again (`transactWrite`);
 * after a few it raises `THROTTLED`.
 */
export const putOnVersion = async <T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Item,
  version: number,
  alongside?: { Update: TransactItems[number]['Update'] },
): Promise<VersionedWrite<T>> => {
  const put = {
    TableName: tableName,
    Item: item,
    ConditionExpression: '#version = :version',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':version': version },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
  try {
    if (alongside === undefined) await writeRetryingConflicts(() => client.send(new PutCommand(put)));
    else await transactWrite(client, [{ Put: put }, alongside]);
    return { saved: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      return {
        saved: false,
        current: error.Item === undefined ? undefined : fromRow<T>(unmarshall(error.Item)),
      };
    }
    if (error instanceof TransactionCanceledException) {
      const [row, other] = error.CancellationReasons ?? [];
      if (row?.Code === 'ConditionalCheckFailed') {
        return {
          saved: false,
          current: row.Item === undefined ? undefined : fromRow<T>(unmarshall(row.Item)),
        };
      }
      if (other?.Code === 'ConditionalCheckFailed') return { saved: false, refusedAlongside: true };
    }
    throw error;
  }
};
