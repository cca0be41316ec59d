/**
 * The sessions API's use cases on memory fakes (no AWS, no Chromium): create writes the row
 * before its start message and holds the quota; a tenant reads, lists and closes only its
 * own sessions; a view never shows the worker's address or lease; closing a live session
 * tells its worker, and a worker that can't be reached doesn't keep it open.
 */
import { describe, expect, it } from 'vitest';
import type { SessionMessage } from '../../shared/core/fleet-queue.js';
import { BrowserfleetError } from '../../shared/errors.js';
import { newSession, type Session, transitionSession } from '../../shared/session/session.js';
import { requireSession } from '../../shared/session/session-events.js';
import { createSessionInputSchema } from '../../shared/session/session-input.js';
import { closeSession, createSession, presentSession } from '../../shared/session/sessions-api.js';
import { verifyTicket } from '../../shared/session/ticket.js';
import type { TicketKeys } from '../../shared/session/ticket-keys.js';
import type { TenantWebhooks } from '../../shared/webhooks/tenant-webhooks.js';
import type { WebhookEventType } from '../../shared/webhooks/webhook-event.js';
import { fakeClock } from '../support/fake-clock.js';
import { MemorySessionStore, RecordingInbox } from '../support/session-fakes.js';

const SECRET = 'test-ticket-secret';
const ENDPOINT = 'http://10.0.1.5:8090';
const keys: TicketKeys = {
  signingKey: async () => SECRET,
  verificationKeys: async () => [SECRET],
  refresh: async () => false,
};

const setup = (...rows: Session[]) => {
  const clock = fakeClock();
  let tenantWebhooks: TenantWebhooks | undefined;
  const sessions = new MemorySessionStore(...rows);
  const sent: SessionMessage[] = [];
  const inbox = new RecordingInbox();
  let n = 0;
  const deps = {
    sessions,
    tenantWebhooks: async () => tenantWebhooks,
    sessionQueue: {
      send: async (message: SessionMessage) => {
        // The row is the truth: it must be there before its start message goes.
        expect(sessions.rows.has(message.sessionId)).toBe(true);
        sent.push(message);
      },
    },
    clock,
    newId: () => `s${++n}`,
    ticketKeys: keys,
    cdpPublicUrl: 'wss://cdp.example.test',
    websocketPublicUrl: 'wss://ws.example.test',
    inbox,
  };
  const setTenantWebhooks = (w: TenantWebhooks | undefined) => {
    tenantWebhooks = w;
  };
  return { deps, sessions, sent, inbox, clock, setTenantWebhooks };
};

const options = createSessionInputSchema.parse({});

const pending = (id: string, tenantId = 't1'): Session =>
  newSession({ id, tenantId, options, now: Date.parse('2026-12-01T00:00:00Z') });

const live = (s: Session): Session => {
  const at = Date.parse(s.createdAt);
  const claimed = transitionSession(s, { kind: 'claim', owner: 'w1', leaseMs: 30_000 }, at);
  if (!claimed.ok) throw new Error(claimed.reason);
  const up = transitionSession(
    claimed.session,
    { kind: 'live', leaseToken: claimed.session.leaseToken, endpoint: ENDPOINT, leaseMs: 30_000 },
    at,
  );
  if (!up.ok) throw new Error(up.reason);
  return up.session;
};

const refusal = async (work: Promise<unknown>): Promise<BrowserfleetError> => {
  const error = await work.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  if (!(error instanceof BrowserfleetError)) throw error;
  return error;
};

describe('create', () => {
  it('writes a pending row, then sends its start message', async () => {
    const { deps, sessions, sent } = setup();
    const s = await createSession(deps, { tenantId: 't1', maxLiveSessions: 2, options });
    expect(s).toMatchObject({
      id: 's1',
      tenantId: 't1',
      status: 'pending',
      options: { timeoutMs: options.timeoutMs },
    });
    expect(sessions.row('s1')).toEqual(s);
    expect(sent).toEqual([{ sessionId: 's1', tenantId: 't1' }]);
  });

  it("past the tenant's live sessions is QUOTA_EXCEEDED, and nothing is sent", async () => {
    const { deps, sent } = setup(live(pending('a1')), pending('a2'));
    const error = await refusal(createSession(deps, { tenantId: 't1', maxLiveSessions: 2, options }));
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(sent).toEqual([]);
    // Another tenant's sessions don't count against this one.
    await createSession(deps, { tenantId: 't2', maxLiveSessions: 2, options });
    expect(sent.map((m) => m.tenantId)).toEqual(['t2']);
  });

  it('owes a session.ended event only when the tenant has an endpoint that takes it', async () => {
    const { deps, setTenantWebhooks } = setup();
    const endpoint = (events: WebhookEventType[]) => ({
      secrets: [],
      endpoints: [{ id: 'ep_1', url: 'https://hooks.example/a', events, createdAt: '2026-01-01T00:00:00Z' }],
    });
    expect(
      (await createSession(deps, { tenantId: 't1', maxLiveSessions: 5, options })).webhook,
    ).toBeUndefined();
    setTenantWebhooks(endpoint(['task.succeeded']));
    expect(
      (await createSession(deps, { tenantId: 't1', maxLiveSessions: 5, options })).webhook,
    ).toBeUndefined();
    setTenantWebhooks(endpoint(['task.failed', 'session.ended']));
    const owed = await createSession(deps, { tenantId: 't1', maxLiveSessions: 5, options });
    expect(owed.webhook).toEqual({ deliveries: [] });
    // Owed from the write that ends it, not before.
    expect(owed.outbox).toBeUndefined();
    // Given the authenticated tenant's settings, it reads no tenant row of its own.
    const fromAuth = await createSession(
      { ...deps, tenantWebhooks: async () => expect.unreachable('a second tenant read') },
      { tenantId: 't1', maxLiveSessions: 5, options, tenant: { webhooks: endpoint(['session.ended']) } },
    );
    expect(fromAuth.webhook).toEqual({ deliveries: [] });
    const closed = await closeSession(deps, { tenantId: 't1', sessionId: owed.id });
    expect(closed.outbox).toEqual({
      eventId: `msg_session_${owed.id}`,
      type: 'session.ended',
      dueAt: deps.clock.now(),
    });
  });
});

describe('get and list', () => {
  it("another tenant's session, a missing one and a malformed id all answer NOT_FOUND", async () => {
    const { sessions } = setup(pending('s1', 't1'));
    for (const [tenantId, id] of [
      ['t2', 's1'],
      ['t1', 'missing'],
      ['t1', '../s1'],
    ] as const) {
      const error = await refusal(requireSession(sessions, tenantId, id));
      expect(error.code, `${tenantId}/${id}`).toBe('NOT_FOUND');
    }
    expect((await requireSession(sessions, 't1', 's1')).id).toBe('s1');
  });

  it("a view of an open session carries tickets for that session only, never the worker's address", async () => {
    const { deps, clock } = setup();
    const view = await presentSession(deps, live(pending('s1')), 'https://api.example.test');
    expect(view).toMatchObject({ id: 's1', status: 'live', websocketUrl: 'wss://ws.example.test' });
    expect(JSON.stringify(view)).not.toContain(ENDPOINT);
    expect(JSON.stringify(view)).not.toContain('leaseToken');
    const cdp = new URL(view.cdpUrl ?? '');
    expect(cdp.origin + cdp.pathname).toBe('wss://cdp.example.test/v1/sessions/s1/cdp');
    const nowSeconds = Math.floor(clock.now() / 1000);
    expect(
      verifyTicket(SECRET, cdp.searchParams.get('ticket') ?? '', { scope: 'cdp', nowSeconds }),
    ).toMatchObject({
      ok: true,
      claims: { sid: 's1', tid: 't1' },
    });
    // Playwright's protocol: behind the same base URL, with the same ticket.
    const playwright = new URL(view.playwrightUrl ?? '');
    expect(playwright.origin + playwright.pathname).toBe('wss://cdp.example.test/v1/sessions/s1/playwright');
    expect(playwright.searchParams.get('ticket')).toBe(cdp.searchParams.get('ticket'));
    const liveView = new URL(view.liveViewUrl ?? '');
    expect(liveView.pathname).toBe('/v1/sessions/s1/live');
    expect(
      verifyTicket(SECRET, liveView.searchParams.get('ticket') ?? '', { scope: 'live', nowSeconds }),
    ).toMatchObject({ ok: true });
  });

  it('a listed session that ended carries no tickets, its end reason instead', async () => {
    const closed = transitionSession(pending('s2'), { kind: 'close' }, Date.parse('2026-12-01T00:00:01Z'));
    if (!closed.ok) throw new Error(closed.reason);
    const { deps, sessions } = setup(pending('s1'), closed.session, pending('s3', 't2'));
    const listed = await sessions.list('t1', { limit: 50 });
    const views = await Promise.all(listed.map((s) => presentSession(deps, s, 'https://api.example.test')));
    expect(views.map((v) => [v.id, v.status, v.cdpUrl !== undefined, v.playwrightUrl !== undefined])).toEqual(
      [
        ['s2', 'closed', false, false],
        ['s1', 'pending', true, true],
      ],
    );
    expect(views[0]?.endReason?.code).toBe('CLOSED_BY_CLIENT');
  });
});

describe('close', () => {
  it("closes a live session's row and tells its worker through the inbox", async () => {
    const { deps, sessions, inbox } = setup(live(pending('s1')));
    const closed = await closeSession(deps, { tenantId: 't1', sessionId: 's1' });
    expect(closed).toMatchObject({ status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } });
    expect(sessions.row('s1').status).toBe('closed');
    expect(inbox.delivered).toEqual([
      { endpoint: ENDPOINT, sessionId: 's1', tenantId: 't1', message: { kind: 'close' } },
    ]);
  });

  it('a live session whose worker cannot be reached is closed all the same', async () => {
    const { deps, sessions, inbox } = setup(live(pending('s1')));
    inbox.failWith = new BrowserfleetError('SESSION_UNREACHABLE', 'The worker did not answer.');
    expect((await closeSession(deps, { tenantId: 't1', sessionId: 's1' })).status).toBe('closed');
    expect(sessions.row('s1').status).toBe('closed');
  });

  it('a pending session is closed on its row alone: no worker to tell yet', async () => {
    const { deps, sessions, inbox } = setup(pending('s1'));
    expect((await closeSession(deps, { tenantId: 't1', sessionId: 's1' })).status).toBe('closed');
    expect(sessions.row('s1').endReason?.code).toBe('CLOSED_BY_CLIENT');
    expect(inbox.delivered).toEqual([]);
  });

  it('an ended session answers as it is, and is not written again', async () => {
    const { deps, sessions, inbox } = setup(live(pending('s1')));
    await closeSession(deps, { tenantId: 't1', sessionId: 's1' });
    const version = sessions.row('s1').version;
    const again = await closeSession(deps, { tenantId: 't1', sessionId: 's1' });
    expect(again.status).toBe('closed');
    expect(sessions.row('s1').version).toBe(version);
    expect(inbox.delivered).toHaveLength(1);
  });

  it("another tenant's session is NOT_FOUND and stays open", async () => {
    const { deps, sessions, inbox } = setup(live(pending('s1', 't1')));
    const error = await refusal(closeSession(deps, { tenantId: 't2', sessionId: 's1' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(sessions.row('s1').status).toBe('live');
    expect(inbox.delivered).toEqual([]);
  });

  it('a close that races a write re-decides on the row it lost to', async () => {
    // Timeline: close reads the session live; its worker renews the lease (a new version);
    // close's write at the old version fails, it reads the new row and closes that one.
    const s = live(pending('s1'));
    const { deps, sessions, inbox } = setup(s);
    let raced = false;
    sessions.beforeSave = async () => {
      if (raced) return;
      raced = true;
      sessions.overwrite({ ...sessions.row('s1'), lease: { owner: 'w1', expiresAt: Date.now() + 60_000 } });
    };
    const closed = await closeSession(deps, { tenantId: 't1', sessionId: 's1' });
    expect(closed.status).toBe('closed');
    expect(sessions.row('s1')).toMatchObject({ status: 'closed', version: s.version + 2 });
    expect(inbox.delivered.map((d) => d.message)).toEqual([{ kind: 'close' }]);
  });
});
