import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { encodeInboxBody, inboxPath, signInboxCall } from '../session/inbox-protocol.js';
import type { SessionInbox } from '../session/ports.js';
import type { InboxMessage } from '../session/session-input.js';
import type { TicketKeys } from '../session/ticket-keys.js';

/** An inbox call waits this long for the worker to accept it (it answers at once). */
const DELIVER_TIMEOUT_MS = 5_000;

/**
 * The per-worker inbox over HTTP: `POST <endpoint>/inbox/sessions/<id>` on the worker that
 * hosts the session, signed with the deployment's secret. The worker accepts the message
 * (202) and answers the client itself, through PostToConnection.
 */
export class HttpSessionInbox implements SessionInbox {
  constructor(private readonly keys: TicketKeys) {}

  async deliver(
    endpoint: string,
    session: { tenantId: string; id: string },
    message: InboxMessage,
  ): Promise<void> {
    const body = encodeInboxBody({ tenantId: session.tenantId, message });
    const key = await this.keys.signingKey();
    let res: Response;
    try {
      const path = inboxPath(session.id);
      res = await fetch(`${endpoint}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signInboxCall(key, { path, body }, Date.now() / 1000),
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
