/** Ports of webhook delivery: the queue of events, and the guarded HTTP client that sends them. */
import type { WebhookMessage } from './webhook-event.js';

export interface WebhookQueue {
  /** Sends a message, visible after `delaySeconds` (SQS allows at most 900). */
  send(message: WebhookMessage, options?: { delaySeconds?: number }): Promise<void>;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** How one POST went: an answer (any status), or no answer and why. */
export type WebhookResponse = { status: number; ms: number } | { error: string; ms: number };

export interface WebhookSender {
  /**
   * POSTs the body. Never follows a redirect (a 3xx is an answer, and not a 2xx), reads at
   * most a few KB of the answer, gives up after its timeout, and refuses a destination the
   * egress guard refuses at the moment of sending (DNS rebinding).
   */
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
