import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { KEYS } from '../../shared/contracts.js';

const TABLE = 'state';
const keyItem = {
  pk: KEYS.apiKeyPk('h1'),
  sk: KEYS.apiKeySk,
  hash: 'h1',
  prefix: 'bf_abcdefgh',
  tenantId: 'acme',
  name: 'ci',
  createdAt: '2026-12-03T00:00:00.000Z',
};
const tenantItem = {
  pk: KEYS.tenantPk('acme'),
  sk: KEYS.tenantSk,
  tenantId: 'acme',
  name: 'Acme',
  limits: { burst: 4 },
  createdAt: '2026-12-03T00:00:00.000Z',
};

/** A client whose `BatchGetItem` leaves the tenant's row unprocessed, as DynamoDB may when throttled. */
const throttledBatchClient = () => {
  const sent: string[] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof BatchGetCommand) {
        sent.push('BatchGetItem');
        return {
          Responses: { [TABLE]: [keyItem] },
          UnprocessedKeys: { [TABLE]: { Keys: [{ pk: tenantItem.pk, sk: tenantItem.sk }] } },
        };
      }
      if (command instanceof GetCommand) {
        sent.push(`GetItem ${String(command.input.Key?.pk)}`);
        return { Item: command.input.Key?.pk === tenantItem.pk ? tenantItem : undefined };
      }
      throw new Error('unexpected command');
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
};

describe('DynamoDB tenant store: key and tenant in one read', () => {
  it('reads what BatchGetItem left unprocessed on its own, and answers both rows', async () => {
    const { client, sent } = throttledBatchClient();
    const store = new DynamoDbTenantStore(client, TABLE);
    const read = await store.getKeyAndTenant('h1', 'acme');
    expect(read.key).toMatchObject({ hash: 'h1', tenantId: 'acme', prefix: 'bf_abcdefgh' });
    expect(read.tenant).toMatchObject({ tenantId: 'acme', limits: { burst: 4 } });
    expect(sent).toEqual(['BatchGetItem', `GetItem ${tenantItem.pk}`]);
  });
});
