import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from '../task/ports.js';

/** Idempotency keys as rows of the state table, expired by TTL (and checked by us). */
export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyClaim> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: KEYS.idempotencyPk(record.tenantId, record.key),
            sk: KEYS.idempotencySk,
            entity: 'idempotency',
            tenantId: record.tenantId,
            key: record.key,
            requestHash: record.requestHash,
            taskId: record.taskId,
            [STATE_TABLE.ttlAttribute]: record.expiresAt,
          },
          // Timeline: the first request with a key writes its record; a later one finds it and
          // replays (or refuses) it. TTL deletion lags by up to days, so an expired record
          // counts as absent here rather than when DynamoDB gets round to it.
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt <= :now',
          ExpressionAttributeNames: { '#expiresAt': STATE_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':now': nowSeconds },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item !== undefined) {
        const item = unmarshall(error.Item);
        return {
          claimed: false,
          existing: {
            tenantId: String(item.tenantId),
            key: String(item.key),
            requestHash: String(item.requestHash),
            taskId: String(item.taskId),
            expiresAt: Number(item[STATE_TABLE.ttlAttribute]),
          },
        };
      }
      throw error;
    }
  }
}
