import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { KEYS, STATE_TABLE } from '../contracts.js';
import { holdsSlot, type SessionStatus } from '../session/session.js';
import type { UsageCounts, UsageLedger } from '../tenancy/ports.js';

const { sweepIndex } = STATE_TABLE;

/** The usage row's attributes, as the task and session stores `ADD` to them. */
const ATTRIBUTE: Record<keyof UsageCounts, string> = {
  queuedTasks: 'queued',
  runningTasks: 'running',
  liveSessions: 'liveSessions',
};

const USAGE_PK_PREFIX = KEYS.usagePk('');

const toCounts = (item: Record<string, unknown>): UsageCounts => ({
  queuedTasks: Number(item[ATTRIBUTE.queuedTasks] ?? 0),
  runningTasks: Number(item[ATTRIBUTE.runningTasks] ?? 0),
  liveSessions: Number(item[ATTRIBUTE.liveSessions] ?? 0),
});

/**
 * The live rows' partitions of the sparse sweep index: every task that counts (queued,
 * running) and every session that holds a slot is there, and nothing that has ended.
 */
const LIVE_PARTITIONS = [
  KEYS.taskSweepPk('queued'),
  KEYS.taskSweepPk('running'),
  ...(['pending', 'starting', 'live'] as const satisfies SessionStatus[]).map(KEYS.sessionSweepPk),
];

/**
 * Usage counters and the rows they count, in the state table. The recount reads the sweep
 * index (cheap: it holds only live rows, never a tenant's history) and counts each row by
 * its own `status`; the index is eventually consistent, which `verifyUsage` allows for.
 */
export class DynamoDbUsageLedger implements UsageLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async counters(tenantId?: string): Promise<Map<string, UsageCounts>> {
    if (tenantId !== undefined) {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: KEYS.usagePk(tenantId), sk: KEYS.usageSk },
          ConsistentRead: true,
        }),
      );
      return new Map(out.Item === undefined ? [] : [[tenantId, toCounts(out.Item)]]);
    }
    // Every tenant's: an operator's occasional scan of the table, usage rows kept.
    const counters = new Map<string, UsageCounts>();
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :sk AND begins_with(pk, :prefix)',
          ExpressionAttributeValues: { ':sk': KEYS.usageSk, ':prefix': USAGE_PK_PREFIX },
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of out.Items ?? []) {
        counters.set(String(item.pk).slice(USAGE_PK_PREFIX.length), toCounts(item));
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return counters;
  }

  async recount(tenantId?: string): Promise<Map<string, UsageCounts>> {
    const counts = new Map<string, UsageCounts>();
    const add = (tenant: string, field: keyof UsageCounts) => {
      const c = counts.get(tenant) ?? { queuedTasks: 0, runningTasks: 0, liveSessions: 0 };
      c[field]++;
      counts.set(tenant, c);
    };
    for (const partition of LIVE_PARTITIONS) {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: sweepIndex.name,
            KeyConditionExpression: '#pk = :pk',
            ProjectionExpression: 'entity, tenantId, #status',
            ExpressionAttributeNames: {
              '#pk': sweepIndex.partitionKey,
              '#status': 'status',
              ...(tenantId === undefined ? {} : { '#tenant': 'tenantId' }),
            },
            ExpressionAttributeValues: {
              ':pk': partition,
              ...(tenantId === undefined ? {} : { ':tenant': tenantId }),
            },
            ...(tenantId === undefined ? {} : { FilterExpression: '#tenant = :tenant' }),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        for (const item of out.Items ?? []) {
          const tenant = String(item.tenantId);
          if (item.entity === 'task' && item.status === 'queued') add(tenant, 'queuedTasks');
          else if (item.entity === 'task' && item.status === 'running') add(tenant, 'runningTasks');
          else if (item.entity === 'session' && holdsSlot(item.status as SessionStatus))
            add(tenant, 'liveSessions');
        }
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    }
    return counts;
  }

  async correct(tenantId: string, from: UsageCounts, to: UsageCounts): Promise<boolean> {
    const fields = Object.keys(ATTRIBUTE) as (keyof UsageCounts)[];
    // Timeline: verifyUsage read `from` before and after recounting the rows; the counters
    // are set to the recount only if no transition moved them since (a missing attribute
    // counts as 0, as `ADD` treats it).
    const condition = fields
      .map((f) =>
        from[f] === 0 ? `(attribute_not_exists(#${f}) OR #${f} = :was_${f})` : `#${f} = :was_${f}`,
      )
      .join(' AND ');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: KEYS.usagePk(tenantId), sk: KEYS.usageSk },
          UpdateExpression: `SET ${fields.map((f) => `#${f} = :to_${f}`).join(', ')}, entity = :entity`,
          ConditionExpression: condition,
          ExpressionAttributeNames: Object.fromEntries(fields.map((f) => [`#${f}`, ATTRIBUTE[f]])),
          ExpressionAttributeValues: {
            ...Object.fromEntries(fields.map((f) => [`:was_${f}`, from[f]])),
            ...Object.fromEntries(fields.map((f) => [`:to_${f}`, to[f]])),
            ':entity': 'usage',
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
