/**
 * The sessions API's use cases: create (quota at create), present (what get and list
 * answer) and close. A tenant sees only its own sessions: another tenant's id answers
 * `NOT_FOUND`, like a missing one (requireSession, session-events.ts).
 */
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { CDP_ROUTE, PLAYWRIGHT_ROUTE } from '../contracts.js';
import type { SessionMessage } from '../core/fleet-queue.js';
import { type TenantWebhooks, tenantTargets } from '../webhooks/tenant-webhooks.js';
import type { SessionInbox, SessionStore } from './ports.js';
import {
  CLOSE_REASONS,
  type CloseReasonCode,
  newSession,
  SESSION_STATUSES,
  type Session,
} from './session.js';
import { applySessionEvent, requireSession } from './session-events.js';
import type { CreateSessionInput } from './session-input.js';
import { issueSessionTicket } from './ticket.js';
import type { TicketKeys } from './ticket-keys.js';

export interface SessionApiDeps {
  sessions: SessionStore;
  /** The tenant's webhook endpoints: a session is created owing `session.ended` if one takes it. */
  tenantWebhooks: (tenantId: string) => Promise<TenantWebhooks | undefined>;
  sessionQueue: { send(message: SessionMessage): Promise<void> };
  clock: Clock;
  newId: () => string;
  /** Signs the tickets in `cdpUrl` and `liveViewUrl`. */
  ticketKeys: TicketKeys;
  /** `ws://…` / `wss://…` base of the CDP and Playwright routers. */
  cdpPublicUrl: string;
  /** `ws://…` / `wss://…` URL of the WebSocket API. */
  websocketPublicUrl: string;
  inbox: SessionInbox;
}

const isoTime = z.string().meta({ description: 'ISO-8601 time', example: '2026-12-02T19:30:00.000Z' });

/**
 * A session as its tenant sees it: no lease, no worker address. The one description of it:
 * `SessionView`, the OpenAPI document and the typed client all come from this schema.
 */
export const sessionViewSchema = z
  .object({
    id: z.string(),
    status: z.enum(SESSION_STATUSES),
    createdAt: isoTime,
    liveAt: isoTime.optional(),
    endedAt: isoTime.optional(),
    /** When the absolute timeout ends it (once live). */
    expiresAt: isoTime.optional(),
    timeoutMs: z.int(),
    idleTimeoutMs: z.int(),
    viewport: z.object({ width: z.int(), height: z.int(), deviceScaleFactor: z.number() }),
    userAgent: z.string().optional(),
    endReason: z
      .object({
        code: z.enum(Object.keys(CLOSE_REASONS) as [CloseReasonCode, ...CloseReasonCode[]]),
        message: z.string(),
      })
      .optional(),
    cdpUrl: z.string().optional().meta({
      description: '`puppeteer.connect({ browserWSEndpoint: cdpUrl })`; the ticket in it expires.',
    }),
    playwrightUrl: z.string().optional().meta({
      description:
        '`chromium.connect(playwrightUrl)` with a supported playwright-core; the same ticket as `cdpUrl`.',
    }),
    liveViewUrl: z.string().optional().meta({
      description: 'A web page with the screencast and takeover controls; expires with its ticket.',
    }),
    /** The WebSocket API to attach to. */
    websocketUrl: z.string(),
    ticketExpiresAt: isoTime.optional(),
  })
  .meta({ id: 'Session', description: 'A live browser session as its tenant sees it.' });
export type SessionView = z.output<typeof sessionViewSchema>;

/** What `GET /v1/sessions` answers. */
export const sessionListViewSchema = z
  .object({ sessions: z.array(sessionViewSchema) })
  .meta({ id: 'SessionList', description: "The tenant's sessions." });

/**
 * What a session's `session.ended` webhook event carries as `data`: the session as its
 * view shows it, without the URLs (an ended session has no tickets to hand out).
 */
export const endedSessionSchema = sessionViewSchema
  .omit({ cdpUrl: true, playwrightUrl: true, liveViewUrl: true, websocketUrl: true, ticketExpiresAt: true })
  .meta({ id: 'EndedSession', description: 'A session as its `session.ended` webhook event shows it.' });
export type EndedSessionView = z.output<typeof endedSessionSchema>;

/** The session's own facts, without URLs: the webhook event's data, and the view's base. */
export const presentEndedSession = (s: Session): EndedSessionView => {
  const { options } = s;
  return {
    id: s.id,
    status: s.status,
    createdAt: s.createdAt,
    ...(s.liveAt === undefined ? {} : { liveAt: s.liveAt }),
    ...(s.endedAt === undefined ? {} : { endedAt: s.endedAt }),
    ...(s.liveAt === undefined
      ? {}
      : { expiresAt: new Date(Date.parse(s.liveAt) + options.timeoutMs).toISOString() }),
    timeoutMs: options.timeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    viewport: options.viewport,
    ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
    ...(s.endReason === undefined ? {} : { endReason: s.endReason }),
  };
};

export const presentSession = async (
  deps: Pick<SessionApiDeps, 'ticketKeys' | 'cdpPublicUrl' | 'websocketPublicUrl' | 'clock'>,
  s: Session,
  httpBaseUrl: string,
): Promise<SessionView> => {
  const open = s.status === 'live' || s.status === 'starting' || s.status === 'pending';
  const now = deps.clock.now();
  const key = await deps.ticketKeys.signingKey();
  const cdp = issueSessionTicket(key, s, 'cdp', now);
  const live = issueSessionTicket(key, s, 'live', now);
  return {
    ...presentEndedSession(s),
    websocketUrl: deps.websocketPublicUrl,
    ...(open
      ? {
          cdpUrl: `${deps.cdpPublicUrl}${CDP_ROUTE.path(s.id)}?ticket=${cdp.ticket}`,
          playwrightUrl: `${deps.cdpPublicUrl}${PLAYWRIGHT_ROUTE.path(s.id)}?ticket=${cdp.ticket}`,
          liveViewUrl: `${httpBaseUrl}/v1/sessions/${s.id}/live?ticket=${live.ticket}`,
          ticketExpiresAt: new Date(cdp.exp * 1000).toISOString(),
        }
      : {}),
  };
};

export const createSession = async (
  deps: Pick<SessionApiDeps, 'sessions' | 'sessionQueue' | 'clock' | 'newId' | 'tenantWebhooks'>,
  input: {
    tenantId: string;
    maxLiveSessions: number;
    options: CreateSessionInput;
    /** The authenticated tenant, when its read already brought its webhook settings. */
    tenant?: { webhooks?: TenantWebhooks | undefined };
  },
): Promise<Session> => {
  const tenant =
    input.tenant === undefined ? await deps.tenantWebhooks(input.tenantId) : input.tenant.webhooks;
  const session = newSession({
    webhook: tenantTargets(tenant, 'session.ended').length > 0,
    id: deps.newId(),
    tenantId: input.tenantId,
    options: {
      timeoutMs: input.options.timeoutMs,
      idleTimeoutMs: input.options.idleTimeoutMs,
      viewport: input.options.viewport,
      ...(input.options.userAgent === undefined ? {} : { userAgent: input.options.userAgent }),
      ...(input.options.locale === undefined ? {} : { locale: input.options.locale }),
      ...(input.options.timezoneId === undefined ? {} : { timezoneId: input.options.timezoneId }),
    },
    now: deps.clock.now(),
  });
  // Row first, then message: a lost send is the sweeper's to repeat (the row is the truth).
  await deps.sessions.create(session, { maxLive: input.maxLiveSessions });
  await deps.sessionQueue.send({ sessionId: session.id, tenantId: session.tenantId });
  return session;
};

/**
 * Closes a session: at once on the row. Attached clients are told by a worker, never from
 * here: this runs in the fleet's VPC (to reach the inboxes), where API Gateway's management
 * API can't be reached. A live session's worker is told through its inbox, so the browser
 * goes now (else it notices at its next heartbeat); a starting session's worker finds the
 * row closed when it would mark it live; a pending one is told by the worker that receives
 * its start message.
 */
export const closeSession = async (
  deps: Pick<SessionApiDeps, 'sessions' | 'clock' | 'inbox'>,
  input: { tenantId: string; sessionId: string },
): Promise<Session> => {
  const found = await requireSession(deps.sessions, input.tenantId, input.sessionId);
  const out = await applySessionEvent(deps.sessions, found, { kind: 'close' }, deps.clock.now);
  if (!out.ok) return out.session ?? found;
  const closed = out.session;
  if (found.endpoint !== undefined && found.status === 'live') {
    // Unreachable (its worker died): its clients learn at their next message (SESSION_NOT_LIVE).
    await deps.inbox.deliver(found.endpoint, closed, { kind: 'close' }).catch(() => {});
  }
  return closed;
};
