import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { SessionInbox } from '../session/ports.js';
import type { InboxMessage } from '../session/session-input.js';
import { signInboxBody } from '../session/ticket.js';

/** An inbox call waits this long for the worker to accept it (it answers at once). */
const DELIVER_TIMEOUT_MS = 5_000;

/** Header carrying the HMAC of an inbox call's body. */
export const INBOX_SIGNATURE_HEADER = 'x-browserfleet-signature';

/**
 * The per-worker inbox over HTTP: `POST <endpoint>/inbox/sessions/<id>` on the worker that
 * hosts the session, signed with the deployment's secret. The worker accepts the message
 * (202) and answers the client itself, through PostToConnection.
 */
export class HttpSessionInbox implements SessionInbox {
  constructor(private readonly secret: string) {}

  async deliver(
    endpoint: string,
    session: { tenantId: string; id: string },
    message: InboxMessage,
  ): Promise<void> {
    const body = JSON.stringify({ tenantId: session.tenantId, message });
    let res: Response;
    try {
      res = await fetch(`${endpoint}/inbox/sessions/${encodeURIComponent(session.id)}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [INBOX_SIGNATURE_HEADER]: signInboxBody(this.secret, body),
        },
        body,
        signal: AbortSignal.timeout(DELIVER_TIMEOUT_MS),
      });
    } catch (error) {
      throw new BrowserfleetError(
        ERROR_CODES.SESSION_UNREACHABLE,
        'The worker hosting the session did not answer.',
        { cause: error },
      );
    }
    await res.body?.cancel();
    if (res.status === 404) {
      throw new BrowserfleetError(ERROR_CODES.SESSION_NOT_LIVE, `Session ${session.id} is not live.`);
    }
    if (res.status !== 202) {
      throw new BrowserfleetError(
        ERROR_CODES.SESSION_UNREACHABLE,
        `The worker hosting the session refused the message (${res.status}).`,
      );
    }
  }
}
