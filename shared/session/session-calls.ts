/**
 * One live-session command, called and answered in one request (the MCP server's tools):
 * checked here by the same schema as a WebSocket client's command, run on the worker that
 * hosts the session in turn with its other commands, and answered with what it answered.
 * Ownership is checked here, once: another tenant's session answers `NOT_FOUND`, like a
 * missing one.
 */
import { newTimeOrderedId } from '../ids.js';
import { parseOrThrow } from '../validation.js';
import type { CommandOutcome, SessionInbox, SessionStore } from './ports.js';
import { notLive, requireSession } from './session-events.js';
import { commandMessageSchema } from './session-input.js';

export interface SessionCallDeps {
  sessions: SessionStore;
  inbox: SessionInbox;
  /** The command's id (it names a screenshot's key and the worker's log lines); a UUIDv7 by default. */
  newId?: () => string;
}

export interface SessionCallInput {
  tenantId: string;
  sessionId: string;
  /** One of COMMAND_METHODS (`navigate`, `snapshot`, `click`, …). */
  method: string;
  /** The method's params, as a WebSocket client sends them (defaults filled in by the worker). */
  params?: unknown;
  /** The command's own timeout (COMMAND_TIMEOUT_MS: 30 s by default, 60 s at most). */
  timeoutMs?: number;
}

/**
 * Runs one command on the session and answers its outcome: `{ ok: true, result }` or
 * `{ ok: false, error }`, the code and message a WebSocket client would get. Throws (errors
 * of the family) for what keeps the command from running at all: `VALIDATION_FAILED` for a
 * bad method or param (`params.<field>: <rule>`), `NOT_FOUND`, `SESSION_NOT_LIVE`, and
 * `SESSION_UNREACHABLE` or `TIMEOUT` from the inbox.
 */
export const callSessionCommand = async (
  deps: SessionCallDeps,
  input: SessionCallInput,
): Promise<CommandOutcome> => {
  const command = parseOrThrow(commandMessageSchema, {
    action: 'command',
    id: (deps.newId ?? newTimeOrderedId)(),
    method: input.method,
    params: input.params ?? {},
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
  });
  const session = await requireSession(deps.sessions, input.tenantId, input.sessionId);
  if (session.status !== 'live' || session.endpoint === undefined) throw notLive(session);
  return deps.inbox.call(session.endpoint, session, command);
};
