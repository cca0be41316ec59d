import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { sessionQuotaError } from '../session/manage-sessions.js';
import type { SessionSaveOutcome, SessionStore } from '../session/ports.js';
import { holdsSlot, type Session, type SessionStatus, sessionSweepDueAt } from '../session/session.js';

type Item = Record<string, NativeAttributeValue>;
const { sweepIndex } = STATE_TABLE;

/** A live session carries the sweep index's keys; an ended one doesn't (sparse index). */
const toItem = (s: Session): Item => {
  const due = sessionSweepDueAt(s);
  return {
    pk: KEYS.sessionPk(s.tenantId),
    sk: KEYS.sessionSk(s.id),
    entity: 'session',
    ...s,
    ...(due === undefined
      ? {}
      : { [sweepIndex.partitionKey]: KEYS.sessionSweepPk(s.status), [sweepIndex.sortKey]: due }),
  };
};

const fromItem = (item: Item): Session => {
  const {
    pk: _pk,
    sk: _sk,
    entity: _entity,
    [sweepIndex.partitionKey]: _gpk,
    [sweepIndex.sortKey]: _gsk,
    ...session
  } = item;
  return session as Session;
};

/**
 * Session rows, in the tenant's partition (`SESSIONS#<tenant>` / `SESSION#<id>`), so a
 * lookup under the wrong tenant finds nothing and listing is one query. The tenant's
 * live-session count sits in its usage row and moves in the same transaction as every
 * status change that takes or frees a slot, so the quota is exact under concurrency.
 */
export class DynamoDbSessionStore implements SessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(session: Session, quota: { maxLive: number }): Promise<void> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toItem(session),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            this.usageUpdate(session.tenantId, 1, quota.maxLive),
          ],
        }),
      );
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Session ${session.id} already exists.`, {
          cause: error,
        });
      }
      if (reasons?.[1]?.Code === 'ConditionalCheckFailed') throw sessionQuotaError(quota.maxLive);
      throw error;
    }
  }

  async get(tenantId: string, sessionId: string): Promise<Session | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.sessionPk(tenantId), sk: KEYS.sessionSk(sessionId) },
        ConsistentRead: true,
      }),
    );
    return out.Item === undefined ? undefined : fromItem(out.Item);
  }

  async list(tenantId: string, options: { limit: number; status?: SessionStatus }): Promise<Session[]> {
    const sessions: Session[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': KEYS.sessionPk(tenantId),
            ':prefix': KEYS.sessionSk(''),
            ...(options.status === undefined ? {} : { ':status': options.status }),
          },
          ...(options.status === undefined
            ? {}
            : { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }),
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      sessions.push(...(out.Items ?? []).map(fromItem));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return sessions.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, options.limit);
  }

  async save(next: Session, current: Session): Promise<SessionSaveOutcome> {
    const delta = Number(holdsSlot(next.status)) - Number(holdsSlot(current.status));
    // Timeline: the caller read the row at `current.version` and decided `next` with the
    // pure state machine; it lands only if nobody wrote the row meanwhile. A claim bumps the
    // fencing token, so a worker whose lease ran out can't mark the session live or end it.
    const put = {
      TableName: this.tableName,
      Item: toItem(next),
      ConditionExpression: '#version = :version',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':version': current.version },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    try {
      if (delta === 0) {
        await this.client.send(new PutCommand(put));
      } else {
        await this.client.send(
          new TransactWriteCommand({ TransactItems: [{ Put: put }, this.usageUpdate(next.tenantId, delta)] }),
        );
      }
      return { saved: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return {
          saved: false,
          current: error.Item === undefined ? undefined : fromItem(unmarshall(error.Item)),
        };
      }
      if (error instanceof TransactionCanceledException) {
        const [row] = error.CancellationReasons ?? [];
        if (row?.Code === 'ConditionalCheckFailed') {
          return {
            saved: false,
            current: row.Item === undefined ? undefined : fromItem(unmarshall(row.Item)),
          };
        }
      }
      throw error;
    }
  }

  async listDue(status: 'pending' | 'starting' | 'live', before: number, limit: number): Promise<Session[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: sweepIndex.name,
        KeyConditionExpression: '#pk = :pk AND #due < :before',
        ExpressionAttributeNames: { '#pk': sweepIndex.partitionKey, '#due': sweepIndex.sortKey },
        ExpressionAttributeValues: { ':pk': KEYS.sessionSweepPk(status), ':before': before },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(fromItem);
  }

  async liveCount(tenantId: string): Promise<number> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.usagePk(tenantId), sk: KEYS.usageSk },
        ConsistentRead: true,
      }),
    );
    return Number(out.Item?.liveSessions ?? 0);
  }

  private usageUpdate(tenantId: string, delta: number, max?: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: KEYS.usagePk(tenantId), sk: KEYS.usageSk },
        UpdateExpression: 'ADD liveSessions :d SET entity = :entity',
        ExpressionAttributeValues: {
          ':d': delta,
          ':entity': 'usage',
          ...(delta > 0 && max !== undefined ? { ':max': max } : {}),
        },
        ...(delta > 0 && max !== undefined
          ? { ConditionExpression: 'attribute_not_exists(liveSessions) OR liveSessions < :max' }
          : {}),
      },
    };
  }
}
