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

  it('the Lambda tier takes task messages only', () => {
    expect(decodeTaskMessage(encodeQueueMessage({ sessionId: 's1', tenantId: 'acme' }))).toBeUndefined();
  });
});
