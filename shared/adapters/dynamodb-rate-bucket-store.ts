import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { KEYS } from '../contracts.js';
import type { RateBucketStore } from '../tenancy/ports.js';
import { type BucketLimits, gcraParams } from '../tenancy/token-bucket.js';

/** Rounds of "bucket was idle / bucket is busy" races before giving up (each means progress). */
const MAX_ROUNDS = 8;

/** Tenants whose last TAT a store remembers; past this, it forgets them all and starts over. */
const MAX_REMEMBERED_TENANTS = 10_000;

/**
 * GCRA buckets as rows of the state table, one per tenant. Each admission is one
 * UpdateItem whose condition is the admission rule, so concurrent requests serialize in
 * DynamoDB instead of retrying against each other.
 *
 * A bucket is either idle (TAT at or before now) or busy, and each has its own update:
 * the store tries first the one the TAT it last saw says (idle when it saw none), so a
 * tenant that sends less than its rate is admitted in one call, not a refused busy update
 * and then the idle one. The guess only orders the calls; the conditions decide.
 */
export class DynamoDbRateBucketStore implements RateBucketStore {
  private readonly lastTat = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(
    tenantId: string,
    clock: () => number,
    limits: BucketLimits,
  ): Promise<{ admitted: boolean; tat: number }> {
    const { intervalMs, toleranceMs } = gcraParams(limits);
    const key = { pk: KEYS.rateBucketPk(tenantId), sk: KEYS.rateBucketSk };
    const answer = (admitted: boolean, tat: number) => {
      if (this.lastTat.size >= MAX_REMEMBERED_TENANTS) this.lastTat.clear();
      this.lastTat.set(tenantId, tat);
      return { admitted, tat };
    };
    // Only the first round follows the guess: a refused idle update means another request
    // just made the bucket busy, and its TAT may already be behind this clock by the next
    // round, so from then on the busy update goes first (concurrent busy updates all land,
    // serialized; only one idle update can).
    const last = this.lastTat.get(tenantId);
    let busyFirst = last !== undefined && last > clock();
    let now = clock();
    for (let round = 0; round < MAX_ROUNDS; round++, now = clock()) {
      if (busyFirst) {
        // Busy bucket (TAT ahead of now): TAT += interval, only while TAT ≤ now + tolerance.
        const busy = await this.update(key, 'SET tat = tat + :interval', 'tat > :now AND tat <= :limit', {
          ':interval': intervalMs,
          ':now': now,
          ':limit': now + toleranceMs,
        });
        if (busy.ok) return answer(true, busy.tat);
        if (busy.tat !== undefined && busy.tat > now) {
          // Refused as of `now`; if the call took long enough (the SDK's backoff under
          // throttling) for the time it is now to admit it, judge it again at that time.
          if (busy.tat <= clock() + toleranceMs && round < MAX_ROUNDS - 1) continue;
          return answer(false, busy.tat);
        }
        // It went idle meanwhile: the idle update below.
      }
      // Idle bucket (TAT at or before now, or none yet): TAT = now + interval.
      const idle = await this.update(
        key,
        'SET tat = :next, entity = :entity',
        'attribute_not_exists(tat) OR tat <= :now',
        {
          ':next': now + intervalMs,
          ':now': now,
          ':entity': 'rateBucket',
        },
      );
      if (idle.ok) return answer(true, idle.tat);
      // Busy after all (or made busy in between): the busy update, next round.
      busyFirst = true;
    }
    return { admitted: false, tat: now + toleranceMs + intervalMs };
  }

  private async update(
    key: Record<string, string>,
    expression: string,
    condition: string,
    values: Record<string, number | string>,
  ): Promise<{ ok: true; tat: number } | { ok: false; tat: number | undefined }> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, tat: Number(out.Attributes?.tat) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const old = error.Item === undefined ? undefined : unmarshall(error.Item);
        return { ok: false, tat: old?.tat === undefined ? undefined : Number(old.tat) };
      }
      throw error;
    }
  }
}
