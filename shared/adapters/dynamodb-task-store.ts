import { ConditionalCheckFailedException, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { Pingable, SaveOutcome, TaskStore } from '../task/ports.js';
import { sweepDueAt, type Task } from '../task/task.js';

type Item = Record<string, NativeAttributeValue>;

const { sweepIndex } = STATE_TABLE;

/**
 * A live task carries the sweep index's keys (its status and when the sweeper should look
 * at it); an ended one doesn't, so the sparse index holds only work in progress.
 */
const toItem = (task: Task): Item => {
  const due = sweepDueAt(task);
  return {
    pk: KEYS.taskPk(task.id),
    sk: KEYS.taskSk,
    entity: 'task',
    ...task,
    ...(due === undefined
      ? {}
      : { [sweepIndex.partitionKey]: KEYS.taskSweepPk(task.status), [sweepIndex.sortKey]: due }),
  };
};

const fromItem = (item: Item): Task => {
  const {
    pk: _pk,
    sk: _sk,
    entity: _entity,
    [sweepIndex.partitionKey]: _gpk,
    [sweepIndex.sortKey]: _gsk,
    ...task
  } = item;
  return task as Task;
};

/** Task rows in the single state table. Every write is conditional. */
export class DynamoDbTaskStore implements TaskStore, Pingable {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(task: Task): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(task),
          // A new id never overwrites a row: ids are random, a clash is a bug worth seeing.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Task ${task.id} already exists.`, {
          cause: error,
        });
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

  async save(next: Task, expectedVersion: number): Promise<SaveOutcome> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(next),
          // Timeline: the caller read the row at `expectedVersion`, computed `next` with the
          // pure state machine, and writes it only if nobody wrote the row meanwhile. A
          // claim bumps the fencing token too, so two claims of one row can't both land, and
          // a worker whose lease was taken over can't end the task: the state machine
          // refuses its token on the row it gets back here, without a second read.
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': expectedVersion },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { saved: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return {
          saved: false,
          current: error.Item === undefined ? undefined : fromItem(unmarshall(error.Item)),
        };
      }
      throw error;
    }
  }

  async listDue(status: 'queued' | 'running', before: number, limit: number): Promise<Task[]> {
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

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }
}
