import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { SessionSaveOutcome, SessionStore } from '../session/ports.js';
import {
  holdsSlot,
  type Session,
  type SessionStatus,
  type SessionSweepList,
  sessionSweepDueAt,
  sessionSweepListOf,
} from '../session/session.js';
import { sessionQuotaError } from '../tenancy/quota-errors.js';
import { transactWrite } from './dynamodb-transactions.js';
import { fromRow, type Item, putOnVersion, toRow } from './dynamodb-versioned-rows.js';

const { sweepIndex } = STATE_TABLE;

/**
 * An open session carries the sweep index's keys, and so does an ended one whose
 * `session.ended` event waits in the outbox; any other ended one doesn't (sparse index).
 */
const toItem = (s: Session): Item => {
  const list = sessionSweepListOf(s);
  return toRow({ pk: KEYS.sessionPk(s.tenantId), sk: KEYS.sessionSk(s.id) }, 'session', s, {
    pk: KEYS.sessionSweepPk(list ?? s.status),
    dueAt: list === undefined ? undefined : sessionSweepDueAt(s),
  });
};

const fromItem = (item: Item): Session => fromRow<Session>(item);

/**
 * Session rows, in the tenant's partition (`SESSIONS#<tenant>` / `SESSION#<id>`), so a
 * lookup under the wrong tenant finds nothing and listing is one query. The tenant's
 * live-session count sits in its usage row and moves in the same transaction as every
 * status change that takes or frees a slot, so the quota is exact under concurrency.
 */
/** Rows read per page of a filtered list. */
const LIST_PAGE_ROWS = 100;
/** A filtered list reads at most this many pages (1,000 rows) of a tenant's history. */
const LIST_MAX_PAGES = 10;

export class DynamoDbSessionStore implements SessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(session: Session, quota: { maxLive: number }): Promise<void> {
    try {
      await transactWrite(this.client, [
        {
          Put: {
            TableName: this.tableName,
            Item: toItem(session),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        this.usageUpdate(session.tenantId, 1, quota.maxLive),
      ]);
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
    // Session ids are time-ordered (UUIDv7), so the key order, read backwards, is newest
    // first: the first page answers, rather than a read of the tenant's whole history. A
    // status filter applies after each page's read, so it may take a few pages, bounded.
    const sessions: Session[] = [];
    let start: Record<string, unknown> | undefined;
    let pages = 0;
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
          ScanIndexForward: false,
          Limit: options.status === undefined ? options.limit : LIST_PAGE_ROWS,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      sessions.push(...(out.Items ?? []).map(fromItem));
      start = out.LastEvaluatedKey;
    } while (start !== undefined && sessions.length < options.limit && ++pages < LIST_MAX_PAGES);
    return sessions.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, options.limit);
  }

  async save(next: Session, current: Session): Promise<SessionSaveOutcome> {
    const delta = Number(holdsSlot(next.status)) - Number(holdsSlot(current.status));
    // Timeline: the caller read the row at `current.version` and decided `next` with the
    // pure state machine; it lands only if nobody wrote the row meanwhile. A claim bumps the
    // fencing token, so a worker whose lease ran out can't mark the session live or end it.
    const saved = await putOnVersion<Session>(
      this.client,
      this.tableName,
      toItem(next),
      current.version,
      delta === 0 ? undefined : this.usageUpdate(next.tenantId, delta),
    );
    // Freeing a slot has no limit to refuse it; only a row that moved on can.
    return 'refusedAlongside' in saved ? { saved: false, current: undefined } : saved;
  }

  async listDue(status: SessionSweepList, before: number, limit: number): Promise<Session[]> {
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
