import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { KEYS } from '../contracts.js';
import type { ApiKeyRecord, Tenant, TenantStore } from '../tenancy/tenant.js';
import { transactWrite } from './dynamodb-transactions.js';

const keyFields = (r: ApiKeyRecord) => ({
  entity: 'apiKey',
  hash: r.hash,
  prefix: r.prefix,
  tenantId: r.tenantId,
  name: r.name,
  createdAt: r.createdAt,
  ...(r.revokedAt === undefined ? {} : { revokedAt: r.revokedAt }),
});

const toKey = (item: Record<string, unknown>): ApiKeyRecord => ({
  hash: String(item.hash),
  prefix: String(item.prefix),
  tenantId: String(item.tenantId),
  name: String(item.name),
  createdAt: String(item.createdAt),
  ...(item.revokedAt === undefined ? {} : { revokedAt: String(item.revokedAt) }),
});

const toTenant = (item: Record<string, unknown>): Tenant => {
  const { tenantId: id, name, limits, createdAt, webhooks } = item;
  return {
    tenantId: String(id),
    name: String(name),
    limits,
    createdAt: String(createdAt),
    ...(webhooks === undefined ? {} : { webhooks }),
  } as Tenant;
};

/**
 * Tenants and API keys in the state table. A key lives twice: under its hash (the lookup on
 * every request) and under its tenant (for listing); both are written in one transaction.
 */
export class DynamoDbTenantStore implements TenantStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: KEYS.tenantPk(tenantId), sk: KEYS.tenantSk } }),
    );
    return out.Item === undefined ? undefined : toTenant(out.Item);
  }

  async putTenant(tenant: Tenant): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: KEYS.tenantPk(tenant.tenantId), sk: KEYS.tenantSk, entity: 'tenant', ...tenant },
      }),
    );
  }

  async getKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: KEYS.apiKeyPk(hash), sk: KEYS.apiKeySk } }),
    );
    return out.Item === undefined ? undefined : toKey(out.Item);
  }

  /**
   * One `BatchGetItem` for both rows. What DynamoDB leaves unprocessed (it may, under
   * throttling, instead of failing) is read on its own with `GetItem`, which the SDK retries.
   */
  async getKeyAndTenant(hash: string, tenantId: string) {
    const keyRow = { pk: KEYS.apiKeyPk(hash), sk: KEYS.apiKeySk };
    const tenantRow = { pk: KEYS.tenantPk(tenantId), sk: KEYS.tenantSk };
    const out = await this.client.send(
      new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [keyRow, tenantRow] } } }),
    );
    const found = out.Responses?.[this.tableName] ?? [];
    const unprocessed = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    const left = (row: { pk: string }) => unprocessed.some((k) => k.pk === row.pk);
    const item = (row: { pk: string }) => found.find((i) => i.pk === row.pk);
    const keyItem = item(keyRow);
    const tenantItem = item(tenantRow);
    return {
      key: left(keyRow) ? await this.getKeyByHash(hash) : keyItem === undefined ? undefined : toKey(keyItem),
      tenant: left(tenantRow)
        ? await this.getTenant(tenantId)
        : tenantItem === undefined
          ? undefined
          : toTenant(tenantItem),
    };
  }

  async putKey(record: ApiKeyRecord): Promise<void> {
    try {
      await transactWrite(this.client, [
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: KEYS.apiKeyPk(record.hash), sk: KEYS.apiKeySk, ...keyFields(record) },
            // A hash is stored once; seeding the same key again changes nothing.
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              pk: KEYS.tenantPk(record.tenantId),
              sk: KEYS.tenantKeySk(record.prefix),
              ...keyFields(record),
            },
          },
        },
      ]);
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return;
      }
      throw error;
    }
  }

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :key)',
        ExpressionAttributeValues: { ':pk': KEYS.tenantPk(tenantId), ':key': 'KEY#' },
      }),
    );
    return (out.Items ?? []).map(toKey);
  }

  async revokeKey(tenantId: string, prefix: string, at: string): Promise<boolean> {
    const listing = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.tenantPk(tenantId), sk: KEYS.tenantKeySk(prefix) },
      }),
    );
    if (listing.Item === undefined) return false;
    const record = toKey(listing.Item);
    const revoke = (pk: string, sk: string) => ({
      Update: {
        TableName: this.tableName,
        Key: { pk, sk },
        UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
        ExpressionAttributeValues: { ':at': at },
      },
    });
    await transactWrite(this.client, [
      revoke(KEYS.apiKeyPk(record.hash), KEYS.apiKeySk),
      revoke(KEYS.tenantPk(tenantId), KEYS.tenantKeySk(prefix)),
    ]);
    return true;
  }
}
