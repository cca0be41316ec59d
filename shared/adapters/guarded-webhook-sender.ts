/**
 * POSTs webhook events through the egress guard, as a page goes through it: the URL's host
 * is resolved and every address vetted at the moment of sending, and the connection goes to
 * exactly a vetted address (a lookup pinned to it), so a DNS answer that changes between
 * the check and the connect (rebinding) can't reach a private or metadata address. No
 * redirect is followed (a 3xx is an answer, not a success), the answer is read to at most a
 * few KB, and the whole exchange has a deadline. node:http(s) only: no client of its own.
 */

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { type AllowEntry, checkDestination, type DnsResolver } from '../egress/egress-policy.js';
import type { WebhookRequest, WebhookResponse, WebhookSender } from '../webhooks/ports.js';

/** Bytes of an answer read (and thrown away): enough to see it end, never a receiver's flood. */
const MAX_ANSWER_BYTES = 4 * 1024;

export interface GuardedWebhookSenderOptions {
  allow: AllowEntry[];
  resolve: DnsResolver;
  /** The whole exchange, connect to the answer's end. */
  timeoutMs: number;
}

/** A lookup that answers only `address`, whatever it is asked (IPv4 or IPv6, one or all). */
const pinnedLookup =
  (address: string): LookupFunction =>
  (_hostname, options, callback) => {
    const family = isIP(address);
    if ((options as { all?: boolean }).all === true) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    } else {
      callback(null, address, family);
    }
  };

export class GuardedWebhookSender implements WebhookSender {
  constructor(private readonly options: GuardedWebhookSenderOptions) {}

  async send(req: WebhookRequest): Promise<WebhookResponse> {
    const started = Date.now();
    const ms = () => Date.now() - started;
    const destination = await checkDestination(req.url, {
      allow: this.options.allow,
      resolve: this.options.resolve,
    });
    if (!destination.allowed) {
      return { error: `blocked by the egress guard: ${destination.message}`, ms: ms() };
    }
    const address = destination.addresses[0] as string;
    const url = new URL(req.url);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const outgoing = send(
          url,
          {
            method: 'POST',
            headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
            lookup: pinnedLookup(address),
            // A fresh connection each time: a pooled one may have been made to another address.
            agent: false,
            signal,
          },
          (answer: IncomingMessage) => {
            let read = 0;
            answer.on('data', (chunk: Buffer) => {
              read += chunk.length;
              if (read > MAX_ANSWER_BYTES) answer.destroy();
            });
            const done = () => resolve(answer.statusCode ?? 0);
            answer.on('end', done);
            answer.on('close', done);
            answer.on('error', done);
          },
        );
        outgoing.on('error', reject);
        outgoing.end(req.body);
      });
      return { status, ms: ms() };
    } catch (error) {
      const message = signal.aborted
        ? `no answer within ${this.options.timeoutMs} ms`
        : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      return { error: message, ms: ms() };
    }
  }
}
