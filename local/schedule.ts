/**
 * The local stand-in for an EventBridge schedule rule: it invokes a function's handler
 * every `intervalMs` with a `Scheduled Event` shaped as EventBridge sends it. A run still
 * going when the next is due is not doubled up (the local cloud is one machine, and a
 * sweep that outlasts its interval would only pile up). No business logic lives here.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';

export interface LocalSchedule {
  /** No further runs; resolves once a run in progress has ended. */
  stop(): Promise<void>;
}

export const startSchedule = (options: {
  /** The schedule rule's name, for the event's `resources`. */
  ruleName: string;
  region: string;
  intervalMs: number;
  handler: (event: ScheduledEvent) => Promise<unknown>;
  onError?: (error: unknown) => void;
}): LocalSchedule => {
  let running: Promise<void> | undefined;
  const invoke = (): void => {
    if (running !== undefined) return;
    const event: ScheduledEvent<Record<string, never>> = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: options.region,
      resources: [`arn:aws:events:${options.region}:000000000000:rule/${options.ruleName}`],
      detail: {},
    };
    running = options
      .handler(event)
      .then(
        () => {},
        (error: unknown) => options.onError?.(error),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(invoke, options.intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
};
