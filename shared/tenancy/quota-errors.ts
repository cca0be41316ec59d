/** The errors a tenant's concurrency quotas answer with: tasks queued, sessions live. */
import { BrowserfleetError, ERROR_CODES } from '../errors.js';

/** Seconds a client is told to wait after a concurrency quota refusal. */
export const QUOTA_RETRY_AFTER_SECONDS = 5;

export const queuedQuotaError = (maxQueued: number): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.QUOTA_EXCEEDED,
    `Quota exceeded: this tenant already has ${maxQueued} queued tasks (maxQueuedTasks); wait for some to start.`,
    { details: { quota: 'maxQueuedTasks', limit: maxQueued, retryAfterSeconds: QUOTA_RETRY_AFTER_SECONDS } },
  );

export const sessionQuotaError = (maxLive: number): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.QUOTA_EXCEEDED,
    `Quota exceeded: this tenant already has ${maxLive} live sessions (maxLiveSessions); close one first.`,
    { details: { quota: 'maxLiveSessions', limit: maxLive, retryAfterSeconds: QUOTA_RETRY_AFTER_SECONDS } },
  );
