import { DescribeTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { Pingable } from '../health/ports.js';
import type {
  HistoryPage,
  HistoryPosition,
  HistoryRead,
  SaveOutcome,
  TaskStore,
  TaskUsage,
} from '../task/ports.js';
import { type SweepList, sweepDueAt, sweepListOf, type Task, usageDelta } from '../task/task.js';
import { queuedQuotaError } from '../tenancy/quota-errors.js';
import { transactWrite } from './dynamodb-transactions.js';
import { fromRow, type Item, putOnVersion, toRow } from './dynamodb-versioned-rows.js';

const { sweepIndex, taskHistoryIndex } = STATE_TABLE;

/**
 * A live task carries the sweep index's keys (its list and when the sweeper should look at
 * it), and so does an ended one whose webhook event waits in the outbox; any other ended
 * one doesn't, so the sparse index holds only work in progress. Every task carries the
 * history index's keys, from its first write to its last: the entry goes when the row goes.
 */
const toItem = (task: Task): Item => {
  const list = sweepListOf(task);
  return {
    ...toRow({ pk: KEYS.taskPk(task.id), sk: KEYS.taskSk }, 'task', task, {
      pk: KEYS.taskSweepPk(list ?? task.status),
      dueAt: list === undefined ? undefined : sweepDueAt(task),
    }),
    [taskHistoryIndex.partitionKey]: KEYS.taskHistoryPk(task.tenantId),
    [taskHistoryIndex.sortKey]: KEYS.taskHistorySk(task.createdAt, task.id),
  };
};

const fromItem = (item: Item): Task => {
  const { [taskHistoryIndex.partitionKey]: _hpk, [taskHistoryIndex.sortKey]: _hsk, ...row } = item;
  return fromRow<Task>(row);
};

/** The history index's key of a task at `at`: the table's key and the index's. */
const historyKey = (tenantId: string, at: HistoryPosition): Item => ({
  pk: KEYS.taskPk(at.id),
  sk: KEYS.taskSk,
  [taskHistoryIndex.partitionKey]: KEYS.taskHistoryPk(tenantId),
  [taskHistoryIndex.sortKey]: KEYS.taskHistorySk(at.createdAt, at.id),
});

/** The position a `LastEvaluatedKey` of the history index names. */
const positionOf = (key: Item): HistoryPosition => {
  const sortKey = String(key[taskHistoryIndex.sortKey]);
  const at = sortKey.indexOf('#');
  return { createdAt: sortKey.slice(0, at), id: sortKey.slice(at + 1) };
};

/** Task rows in the single state table. Every write is conditional. */
export class DynamoDbTaskStore implements TaskStore, Pingable {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(task: Task, quota?: { maxQueued: number }): Promise<void> {
    try {
      await transactWrite(this.client, [
        {
          Put: {
            TableName: this.tableName,
            Item: toItem(task),
            // A new id never overwrites a row: ids are random, a clash is a bug worth seeing.
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        this.usageUpdate(task.tenantId, usageDelta(undefined, task.status), {
          queued: quota?.maxQueued,
        }),
      ]);
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Task ${task.id} already exists.`, {
          cause: error,
        });
      }
      if (reasons?.[1]?.Code === 'ConditionalCheckFailed' && quota !== undefined) {
        throw queuedQuotaError(quota.maxQueued);
      }
      throw error;
    }
  }

  async get(id: string): Promise<Task | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.taskPk(id), sk: KEYS.taskSk },
        ConsistentRead: true,
      }),
    );
    return out.Item === undefined ? undefined : fromItem(out.Item);
  }

  async save(next: Task, current: Task, quota?: { maxRunning: number }): Promise<SaveOutcome> {
    const delta = usageDelta(current.status, next.status);
    // Timeline: the caller read the row at `current.version`, computed `next` with the pure
    // state machine, and writes it only if nobody wrote the row meanwhile. A claim bumps the
    // fencing token too, so two claims of one row can't both land, and a worker whose lease
    // was taken over can't end the task: the state machine refuses its token on the row it
    // gets back here (ALL_OLD), without a second read.
    const saved = await putOnVersion<Task>(
      this.client,
      this.tableName,
      toItem(next),
      current.version,
      delta.queued === 0 && delta.running === 0
        ? undefined
        : // A change of status moves the tenant's counters in the same transaction, so the
          // counts are exact and a quota check on them can't be raced.
          this.usageUpdate(next.tenantId, delta, { running: quota?.maxRunning }),
    );
    return 'refusedAlongside' in saved ? { saved: false, quotaExceeded: 'maxRunningTasks' } : saved;
  }

  /** How many tasks are in `status` now, from the sparse sweep index (eventually consistent). */
  async countLive(status: 'queued' | 'running'): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: sweepIndex.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': sweepIndex.partitionKey },
          ExpressionAttributeValues: { ':pk': KEYS.taskSweepPk(status) },
          Select: 'COUNT',
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return count;
  }

  async usage(tenantId: string): Promise<TaskUsage> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: KEYS.usagePk(tenantId), sk: KEYS.usageSk },
        ConsistentRead: true,
      }),
    );
    return { queuedTasks: Number(out.Item?.queued ?? 0), runningTasks: Number(out.Item?.running ?? 0) };
  }

  /** The usage-row half of a transaction: add the deltas, refusing to grow past a maximum. */
  private usageUpdate(
    tenantId: string,
    delta: { queued: number; running: number },
    max: { queued?: number | undefined; running?: number | undefined },
  ) {
    const conditions: string[] = [];
    const values: Record<string, number> = { ':dq': delta.queued, ':dr': delta.running };
    if (delta.queued > 0 && max.queued !== undefined) {
      conditions.push('(attribute_not_exists(queued) OR queued < :maxQueued)');
      values[':maxQueued'] = max.queued;
    }
    if (delta.running > 0 && max.running !== undefined) {
      conditions.push('(attribute_not_exists(running) OR running < :maxRunning)');
      values[':maxRunning'] = max.running;
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: KEYS.usagePk(tenantId), sk: KEYS.usageSk },
        UpdateExpression: 'ADD queued :dq, running :dr SET entity = :entity',
        ExpressionAttributeValues: { ...values, ':entity': 'usage' },
        ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
      },
    };
  }

  async listDue(status: SweepList, before: number, limit: number): Promise<Task[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: sweepIndex.name,
        KeyConditionExpression: '#pk = :pk AND #due < :before',
        ExpressionAttributeNames: { '#pk': sweepIndex.partitionKey, '#due': sweepIndex.sortKey },
        ExpressionAttributeValues: { ':pk': KEYS.taskSweepPk(status), ':before': before },
        Limit: limit,
      }),
    );
    // The index is eventually consistent: a row may have moved on since; callers re-check
    // through the state machine and a conditional write.
    return (out.Items ?? []).map(fromItem);
  }

  async listByTenant(tenantId: string, read: HistoryRead): Promise<HistoryPage> {
    const names: Record<string, string> = { '#pk': taskHistoryIndex.partitionKey };
    const values: Record<string, unknown> = { ':pk': KEYS.taskHistoryPk(tenantId) };
    let keyCondition = '#pk = :pk';
    if (read.since !== undefined) {
      // `<since>` sorts before `<since>#<id>`: a task created at `since` itself is in.
      keyCondition += ' AND #sk >= :since';
      names['#sk'] = taskHistoryIndex.sortKey;
      values[':since'] = read.since;
    }
    const filters: string[] = [];
    if (read.status !== undefined) {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = read.status;
    }
    if (read.type !== undefined) {
      filters.push('#type = :type');
      names['#type'] = 'type';
      values[':type'] = read.type;
    }
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: taskHistoryIndex.name,
        KeyConditionExpression: keyCondition,
        ...(filters.length === 0 ? {} : { FilterExpression: filters.join(' AND ') }),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        // Rows evaluated, before the filter: the cost of this read is bounded by the caller.
        Limit: read.maxRows,
        ...(read.after === undefined ? {} : { ExclusiveStartKey: historyKey(tenantId, read.after) }),
      }),
    );
    const tasks = (out.Items ?? []).map(fromItem);
    return {
      tasks,
      ...(out.LastEvaluatedKey === undefined ? {} : { last: positionOf(out.LastEvaluatedKey) }),
    };
  }

  /**
   * For operators, once after an upgrade: writes the history index's keys on task rows
   * written before the index existed, so those tasks are listed too. A Scan of the whole
   * table, page by page, as the usage recount's: an operator's tool, on no request path. Each
   * row is put back only if it is still at the version read (the same values, plus the
   * keys); one that moved on meanwhile was rewritten with its keys already. Answers how
   * many rows it wrote.
   */
  async backfillHistoryKeys(): Promise<number> {
    let written = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'entity = :task AND attribute_not_exists(#hpk)',
          ExpressionAttributeNames: { '#hpk': taskHistoryIndex.partitionKey },
          ExpressionAttributeValues: { ':task': 'task' },
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of out.Items ?? []) {
        const task = fromItem(item);
        const saved = await putOnVersion<Task>(this.client, this.tableName, toItem(task), task.version);
        if (saved.saved) written += 1;
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return written;
  }

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }
}
