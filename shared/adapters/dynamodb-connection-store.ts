import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { KEYS, STATE_TABLE, WEBSOCKET } from '../contracts.js';
import type { Connection, ConnectionStore } from '../session/ports.js';
import { type TransactItems, transactWrite } from './dynamodb-transactions.js';

/** API Gateway ends every connection within 2 h; rows outlive that a little, then TTL. */
const ROW_TTL_SECONDS = Math.ceil(WEBSOCKET.maxConnectionMs / 1000) + 3_600;

/**
 * WebSocket connections (`CONN#<id>`) and their attachments, kept beside the session
 * (`SESSIONS#<tenant>` / `ATTACH#<session>#<connection>`) so the session's end can be told
 * to every client attached to it, even by the sweeper after its worker died.
 */
export class DynamoDbConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async put(c: Connection): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: KEYS.connectionPk(c.connectionId),
          sk: KEYS.connectionSk,
          entity: 'connection',
          ...c,
          [STATE_TABLE.ttlAttribute]: this.nowSeconds() + ROW_TTL_SECONDS,
        },
      }),
    );
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.connectionPk(connectionId), sk: KEYS.connectionSk },
        ConsistentRead: true,
      }),
    );
    if (out.Item === undefined) return undefined;
    const { pk: _pk, sk: _sk, entity: _e, [STATE_TABLE.ttlAttribute]: _ttl, ...c } = out.Item;
    return c as Connection;
  }

  async delete(connectionId: string): Promise<void> {
    const c = await this.get(connectionId);
    if (c?.sessionId !== undefined) await this.attach(c, undefined);
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.connectionPk(connectionId), sk: KEYS.connectionSk },
      }),
    );
  }

  async attach(c: Connection, session: { tenantId: string; id: string } | undefined): Promise<void> {
    const items: TransactItems = [];
    if (c.sessionId !== undefined && c.sessionId !== session?.id) {
      items.push({
        Delete: {
          TableName: this.tableName,
          Key: { pk: KEYS.sessionPk(c.tenantId), sk: KEYS.attachmentSk(c.sessionId, c.connectionId) },
        },
      });
    }
    if (session !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            pk: KEYS.sessionPk(session.tenantId),
            sk: KEYS.attachmentSk(session.id, c.connectionId),
            entity: 'attachment',
            connectionId: c.connectionId,
            [STATE_TABLE.ttlAttribute]: this.nowSeconds() + ROW_TTL_SECONDS,
          },
        },
      });
    }
    const { sessionId: _old, ...rest } = c;
    items.push({
      Put: {
        TableName: this.tableName,
        Item: {
          pk: KEYS.connectionPk(c.connectionId),
          sk: KEYS.connectionSk,
          entity: 'connection',
          ...rest,
          ...(session === undefined ? {} : { sessionId: session.id }),
          [STATE_TABLE.ttlAttribute]: this.nowSeconds() + ROW_TTL_SECONDS,
        },
      },
    });
    await transactWrite(this.client, items);
  }

  async attached(tenantId: string, sessionId: string): Promise<string[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': KEYS.sessionPk(tenantId),
          ':prefix': KEYS.attachmentPrefix(sessionId),
        },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => String(i.connectionId));
  }
}
