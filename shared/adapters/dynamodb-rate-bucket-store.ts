import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { KEYS } from '../contracts.js';
import type { RateBucketStore, StoredBucket } from '../tenancy/rate-limit.js';
import type { BucketState } from '../tenancy/token-bucket.js';

const fromItem = (item: Record<string, unknown>): StoredBucket => ({
  state: { tokens: Number(item.tokens), updatedAt: Number(item.updatedAt) },
  version: Number(item.version),
});

/** Token buckets as rows of the state table, one per tenant. */
export class DynamoDbRateBucketStore implements RateBucketStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string): Promise<StoredBucket | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.rateBucketPk(tenantId), sk: KEYS.rateBucketSk },
        ConsistentRead: true,
      }),
    );
    return out.Item === undefined ? undefined : fromItem(out.Item);
  }

  async put(tenantId: string, state: BucketState, expectedVersion: number | undefined) {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: KEYS.rateBucketPk(tenantId),
            sk: KEYS.rateBucketSk,
            entity: 'rateBucket',
            tokens: state.tokens,
            updatedAt: state.updatedAt,
            version: (expectedVersion ?? 0) + 1,
          },
          // Timeline: read the bucket at `expectedVersion`, refill and take a token, write it
          // back only if no other request wrote in between; the loser recomputes from ALL_OLD.
          ConditionExpression:
            expectedVersion === undefined ? 'attribute_not_exists(pk)' : '#version = :version',
          ...(expectedVersion === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': expectedVersion },
              }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { saved: true as const };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return {
          saved: false as const,
          current: error.Item === undefined ? undefined : fromItem(unmarshall(error.Item)),
        };
      }
      throw error;
    }
  }
}
