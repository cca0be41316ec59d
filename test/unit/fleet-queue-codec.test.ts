/**
 * The one codec of queue message bodies, which the SQS adapter and the Lambda tier's
 * handler both use: what one end writes, the other reads, and nothing else gets in.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeFleetMessage,
  decodeTaskMessage,
  encodeQueueMessage,
  type FleetMessage,
  withRowCopy,
} from '../../shared/core/fleet-queue.js';

describe('queue message codec', () => {
  it('reads back every message kind it writes', () => {
    const messages: FleetMessage[] = [
      { taskId: 't1' },
      { taskId: 't2', tier: 'lambda' },
      { sessionId: 's1', tenantId: 'acme' },
    ];
    for (const m of messages) expect(decodeFleetMessage(encodeQueueMessage(m))).toEqual(m);
    expect(decodeTaskMessage(encodeQueueMessage({ taskId: 't3', tier: 'fleet' }))).toEqual({
      taskId: 't3',
      tier: 'fleet',
    });
  });

  it('refuses bodies that are not one of ours, so they stay for the DLQ', () => {
    for (const body of [
      undefined,
      '',
      'not json',
      'null',
      '[]',
      '{}',
      '{"taskId":""}',
      '{"taskId":1}',
      '{"taskId":"t","tier":"gpu"}',
      '{"sessionId":"s"}',
    ]) {
      expect(decodeFleetMessage(body), String(body)).toBeUndefined();
    }
  });

  it("carries a copy of the task's row, and drops one of another task's", () => {
    const row = { id: 't1', version: 0, status: 'queued', url: 'http://fixture.test/' };
    const message = { taskId: 't1', tier: 'fleet' as const, row };
    expect(decodeFleetMessage(encodeQueueMessage(message))).toEqual(message);
    expect(decodeTaskMessage(encodeQueueMessage(message))).toEqual(message);
    const other = { taskId: 't2', tier: 'fleet' as const, row };
    expect(decodeFleetMessage(encodeQueueMessage(other))).toEqual({ taskId: 't2', tier: 'fleet' });
    // A copy too big for one 64 KB SQS request stays out of the message.
    expect(withRowCopy({ taskId: 't1' }, row)).toEqual({ taskId: 't1', row });
    const big = { ...row, url: 'x'.repeat(70_000) };
    expect(withRowCopy({ taskId: 't1' }, big)).toEqual({ taskId: 't1' });
    // A copy without a version can't be the claim's expected row: not one of ours.
    expect(decodeFleetMessage('{"taskId":"t1","row":{"id":"t1"}}')).toBeUndefined();
  });

  it('the Lambda tier takes task messages only', () => {
    expect(decodeTaskMessage(encodeQueueMessage({ sessionId: 's1', tenantId: 'acme' }))).toBeUndefined();
  });
});
