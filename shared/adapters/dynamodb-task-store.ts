import { ConditionalCheckFailedException, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { KEYS } from '../contracts.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { ExpectedRow, Pingable, SaveOutcome, TaskStore } from '../task/ports.js';
import type { Task } from '../task/task.js';

type Item = Record<string, NativeAttributeValue>;

const toItem = (task: Task): Item => ({
  pk: KEYS.taskPk(task.id),
  sk: KEYS.taskSk,
  entity: 'task',
  ...task,
});

const fromItem = (item: Item): Task => {
  const { pk: _pk, sk: _sk, entity: _entity, ...task } = item;
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

  async save(next: Task, expected: ExpectedRow): Promise<SaveOutcome> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(next),
          // Timeline: the caller read the row at (status, token), computed `next` with the
          // pure state machine, and writes it only if nobody moved the row meanwhile. A claim
          // bumps the token, so two claims of one row can't both land, and a worker whose
          // lease was taken over can't end the task: its token no longer matches.
          ConditionExpression: '#status = :status AND #leaseToken = :leaseToken',
          ExpressionAttributeNames: { '#status': 'status', '#leaseToken': 'leaseToken' },
          ExpressionAttributeValues: {
            ':status': expected.status,
            ':leaseToken': expected.leaseToken,
          },
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

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }
}
