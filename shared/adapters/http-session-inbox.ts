import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import {
  decodeCommandOutcome,
  encodeInboxBody,
  encodeInboxCallBody,
  INBOX_CALL_MARGIN_MS,
  inboxCallPath,
  inboxPath,
  signInboxCall,
} from '../session/inbox-protocol.js';
import type { CommandOutcome, SessionInbox } from '../session/ports.js';
import type { CommandMessage, InboxMessage } from '../session/session-input.js';
import type { TicketKeys } from '../session/ticket-keys.js';

/** An inbox call waits this long for the worker to accept it (it answers at once). */
const DELIVER_TIMEOUT_MS = 5_000;

/** A command's answer is at most one page of a snapshot or an evaluate's result, and its envelope. */
const MAX_OUTCOME_BYTES = 1024 * 1024;

const unreachable = (error?: unknown): BrowserfleetError =>
  new BrowserfleetError(ERROR_CODES.SESSION_UNREACHABLE, 'The worker hosting the session did not answer.', {
    ...(error === undefined ? {} : { cause: error }),
  });

const refused = (status: number): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.SESSION_UNREACHABLE,
    `The worker hosting the session refused the message (${status}).`,
  );

/**
 * The per-worker inbox over HTTP: `POST <endpoint>/inbox/sessions/<id>` on the worker that
 * hosts the session, signed with the deployment's secret. The worker accepts the message
 * (202) and answers the client itself, through PostToConnection; a call
 * (`…/<id>/calls`) is answered in the response instead, once its command has run.
 */
export class HttpSessionInbox implements SessionInbox {
  constructor(
    private readonly keys: TicketKeys,
    private readonly options: {
      /**
       * The longest a call is waited for, whatever its command's timeout: a function behind
       * API Gateway (29 s at most) sets it below its own timeout, so it answers `TIMEOUT`
       * rather than be cut off.
       */
      maxCallWaitMs?: number;
    } = {},
  ) {}

  /** Posts a signed body; answers once the worker's status line and headers are in. */
  private async post(endpoint: string, path: string, body: string, signal: AbortSignal): Promise<Response> {
    const key = await this.keys.signingKey();
    try {
      return await fetch(`${endpoint}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signInboxCall(key, { path, body }, Date.now() / 1000),
        },
        body,
        signal,
      });
    } catch (error) {
      throw unreachable(error);
    }
  }

  async deliver(
    endpoint: string,
    session: { tenantId: string; id: string },
    message: InboxMessage,
  ): Promise<void> {
    const body = encodeInboxBody({ tenantId: session.tenantId, message });
    const res = await this.post(
      endpoint,
      inboxPath(session.id),
      body,
      AbortSignal.timeout(DELIVER_TIMEOUT_MS),
    );
    await res.body?.cancel();
    if (res.status === 404) {
      throw new BrowserfleetError(ERROR_CODES.SESSION_NOT_LIVE, `Session ${session.id} is not live.`);
    }
    if (res.status !== 202) throw refused(res.status);
  }

  /**
   * The worker answers a call's headers as soon as it has queued the command, so a worker
   * that is gone is told apart (`SESSION_UNREACHABLE`, within seconds) from a command that
   * is slow (`TIMEOUT`, past its own timeout and the margin).
   */
  async call(
    endpoint: string,
    session: { tenantId: string; id: string },
    command: CommandMessage,
  ): Promise<CommandOutcome> {
    const body = encodeInboxCallBody({ tenantId: session.tenantId, command });
    const abort = new AbortController();
    const waitMs = Math.min(
      command.timeoutMs + INBOX_CALL_MARGIN_MS,
      this.options.maxCallWaitMs ?? Number.POSITIVE_INFINITY,
    );
    let timedOut = false;
    let timer = setTimeout(() => abort.abort(), DELIVER_TIMEOUT_MS);
    try {
      const res = await this.post(endpoint, inboxCallPath(session.id), body, abort.signal);
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, waitMs);
      if (res.status === 404) {
        await res.body?.cancel();
        throw new BrowserfleetError(ERROR_CODES.SESSION_NOT_LIVE, `Session ${session.id} is not live.`);
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw refused(res.status);
      }
      let text: string;
      try {
        text = await res.text();
      } catch (error) {
        if (timedOut) {
          throw new BrowserfleetError(
            ERROR_CODES.TIMEOUT,
            `The session's ${command.method} command did not answer within ${waitMs} ms ` +
              "(its own timeout, and the time it waited behind the session's earlier commands).",
            { cause: error },
          );
        }
        throw unreachable(error);
      }
      const outcome =
        Buffer.byteLength(text, 'utf8') > MAX_OUTCOME_BYTES ? undefined : decodeCommandOutcome(text);
      if (outcome === undefined) {
        throw new BrowserfleetError(
          ERROR_CODES.SESSION_UNREACHABLE,
          'The worker hosting the session answered the call with something unexpected.',
        );
      }
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }
}
