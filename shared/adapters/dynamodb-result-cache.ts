import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import type { ResultCache } from '../task/ports.js';
import type { ResultCacheEntry } from '../task/result-cache.js';

/**
 * Result-cache entries as rows of the state table (`KEYS.resultCachePk`), one per tenant and
 * normalized request, deleted by DynamoDB's TTL on `expiresAt` (epoch seconds) some time
 * after they expire; until then `expiresAtMs` is what the code judges freshness by.
 */
export class DynamoDbResultCache implements ResultCache {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, key: string): Promise<ResultCacheEntry | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.resultCachePk(tenantId, key), sk: KEYS.resultCacheSk },
      }),
    );
    const item = out.Item;
    // The tenant is in the key; the check on the row is a second lock on the same door.
    if (item === undefined || item.tenantId !== tenantId) return undefined;
    return {
      tenantId: String(item.tenantId),
      key: String(item.key),
      sourceTaskId: String(item.sourceTaskId),
      result: item.result as ResultCacheEntry['result'],
      endedAtMs: Number(item.endedAtMs),
      expiresAtMs: Number(item.expiresAtMs),
    };
  }

  async record(entry: ResultCacheEntry): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: KEYS.resultCachePk(entry.tenantId, entry.key),
            sk: KEYS.resultCacheSk,
            entity: 'resultCache',
            ...entry,
            [STATE_TABLE.ttlAttribute]: Math.ceil(entry.expiresAtMs / 1000),
          },
          // Timeline: two tasks of one request may end in either order; the entry keeps the
          // newer result, whichever write lands last. An expired row is replaced like any
          // older one (its result is older too).
          ConditionExpression: 'attribute_not_exists(pk) OR endedAtMs < :endedAtMs',
          ExpressionAttributeValues: { ':endedAtMs': entry.endedAtMs },
        }),
      );
    } catch (error) {
      // A result at least as new is already there: nothing to do.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }
}
