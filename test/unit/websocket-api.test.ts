/**
 * The WebSocket API's use cases on memory fakes (no AWS, no Chromium): who may connect,
 * which sessions a connection may reach, when an attach is recorded and when it goes to
 * the worker (the attach race included), and that nothing bad reaches a worker's inbox.
 */
import { describe, expect, it } from 'vitest';
import type { AuthenticatedTenant } from '../../shared/auth/ports.js';
import { BrowserfleetError } from '../../shared/errors.js';
import type { Connection } from '../../shared/session/ports.js';
import { newSession, type Session, transitionSession } from '../../shared/session/session.js';
import { issueSessionTicket } from '../../shared/session/ticket.js';
import type { TicketKeys } from '../../shared/session/ticket-keys.js';
import {
  attachClient,
  connectClient,
  detachClient,
  disconnectClient,
  forwardToSession,
  type WsDeps,
} from '../../shared/session/websocket-api.js';
import { DEFAULT_LIMITS } from '../../shared/tenancy/tenant.js';
import { fakeClock } from '../support/fake-clock.js';
import { MemoryConnectionStore, MemorySessionStore, RecordingInbox } from '../support/session-fakes.js';

const SECRET = 'test-ticket-secret';
const ENDPOINT = 'http://10.0.1.5:8090';
const keys: TicketKeys = {
  signingKey: async () => SECRET,
  verificationKeys: async () => [SECRET],
  refresh: async () => false,
};

const pending = (id: string, tenantId = 't1', now = Date.parse('2026-12-01T00:00:00Z')): Session =>
  newSession({
    id,
    tenantId,
    options: {
      timeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
    },
    now,
  });

/** `s` claimed by a worker and brought up there: live at ENDPOINT. */
const live = (s: Session): Session => {
  const claimed = transitionSession(
    s,
    { kind: 'claim', owner: 'w1', leaseMs: 30_000 },
    Date.parse(s.createdAt),
  );
  if (!claimed.ok) throw new Error(claimed.reason);
  const up = transitionSession(
    claimed.session,
    { kind: 'live', leaseToken: claimed.session.leaseToken, endpoint: ENDPOINT, leaseMs: 30_000 },
    Date.parse(s.createdAt),
  );
  if (!up.ok) throw new Error(up.reason);
  return up.session;
};

/** Holds `current`, but its first read answers `stale`: the row as it was a moment before. */
class FirstReadStale extends MemorySessionStore {
  reads = 0;
  constructor(
    private readonly stale: Session,
    current: Session,
  ) {
    super(current);
  }
  override async get(tenantId: string, sessionId: string): Promise<Session | undefined> {
    return this.reads++ === 0 ? this.stale : super.get(tenantId, sessionId);
  }
}

const TENANTS: Record<string, AuthenticatedTenant> = {
  'key-t1': { tenantId: 't1', limits: DEFAULT_LIMITS, keyPrefix: 'bf_t1' },
  'key-t2': { tenantId: 't2', limits: DEFAULT_LIMITS, keyPrefix: 'bf_t2' },
};

const setup = (options: { rows?: Session[]; connections?: Connection[]; admitted?: boolean } = {}) => {
  const clock = fakeClock();
  const sessions = new MemorySessionStore(...(options.rows ?? []));
  const connections = new MemoryConnectionStore(...(options.connections ?? []));
  const inbox = new RecordingInbox();
  const deps: WsDeps = {
    verifier: { verify: async (key) => TENANTS[key] },
    buckets: {
      // A refusal answers the bucket's TAT as found: a minute ahead, far past the burst.
      take: async (_tenant, now) => ({
        admitted: options.admitted ?? true,
        tat: now() + (options.admitted === false ? 60_000 : 0),
      }),
    },
    sessions,
    connections,
    inbox,
    clock,
    ticketKeys: keys,
  };
  return { deps, sessions, connections, inbox, clock };
};

const connection = (id: string, tenantId: string, more: Partial<Connection> = {}): Connection => ({
  connectionId: id,
  tenantId,
  connectedAt: '2026-12-01T00:00:00.000Z',
  ...more,
});

/** The error `work` rejects with (it must reject with one of the family). */
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

describe('connect', () => {
  it('a bad, missing or malformed key is UNAUTHORIZED and leaves no connection row', async () => {
    const { deps, connections } = setup();
    for (const authorization of ['Bearer nope', undefined, 'Basic key-t1']) {
      const error = await refusal(
        connectClient(deps, { connectionId: 'c1', authorization, ticket: undefined }),
      );
      expect(error.code, String(authorization)).toBe('UNAUTHORIZED');
    }
    expect(connections.rows.size).toBe(0);
  });

  it("past the tenant's rate it is RATE_LIMITED, with when to retry, and leaves no row", async () => {
    const { deps, connections } = setup({ admitted: false });
    const error = await refusal(
      connectClient(deps, { connectionId: 'c1', authorization: 'Bearer key-t1', ticket: undefined }),
    );
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.details?.retryAfterSeconds).toBeGreaterThan(0);
    expect(connections.rows.size).toBe(0);
  });

  it("a good key connects as its tenant; a ticket as the ticket's session, and only it", async () => {
    const { deps, connections, clock } = setup();
    await connectClient(deps, { connectionId: 'c1', authorization: 'Bearer key-t2', ticket: undefined });
    expect(connections.rows.get('c1')).toMatchObject({ tenantId: 't2' });
    expect(connections.rows.get('c1')?.ticketSessionId).toBeUndefined();

    const { ticket } = issueSessionTicket(SECRET, pending('s1'), 'live', clock.now());
    await connectClient(deps, { connectionId: 'c2', authorization: undefined, ticket });
    expect(connections.rows.get('c2')).toMatchObject({ tenantId: 't1', ticketSessionId: 's1' });

    const cdp = issueSessionTicket(SECRET, pending('s1'), 'cdp', clock.now()).ticket;
    const forged = issueSessionTicket('another-secret', pending('s1'), 'live', clock.now()).ticket;
    for (const bad of [cdp, forged, 'garbage']) {
      const error = await refusal(
        connectClient(deps, { connectionId: 'c3', authorization: undefined, ticket: bad }),
      );
      expect(error.code).toBe('UNAUTHORIZED');
    }
    expect(connections.rows.has('c3')).toBe(false);
  });
});

describe('attach', () => {
  it('a ticket connection can attach only the session its ticket names', async () => {
    const { deps, connections } = setup({
      rows: [pending('s1'), pending('s2')],
      connections: [connection('c1', 't1', { ticketSessionId: 's1' })],
    });
    const error = await refusal(
      attachClient(deps, { connectionId: 'c1', body: { action: 'attach', sessionId: 's2' } }),
    );
    expect(error.code).toBe('NOT_FOUND');
    expect(connections.rows.get('c1')?.sessionId).toBeUndefined();
    expect(
      await attachClient(deps, { connectionId: 'c1', body: { action: 'attach', sessionId: 's1' } }),
    ).toEqual({ type: 'attached', sessionId: 's1', status: 'pending' });
  });

  it("another tenant's session answers NOT_FOUND, as a missing one does, and nothing is recorded", async () => {
    const { deps, connections, inbox } = setup({
      rows: [live(pending('s1', 't1'))],
      connections: [connection('c2', 't2')],
    });
    for (const sessionId of ['s1', 'missing']) {
      const error = await refusal(
        attachClient(deps, { connectionId: 'c2', body: { action: 'attach', sessionId } }),
      );
      expect(error.code, sessionId).toBe('NOT_FOUND');
      expect(error.message, sessionId).toBe(`Session ${sessionId} not found.`);
    }
    expect(connections.rows.get('c2')?.sessionId).toBeUndefined();
    expect(inbox.delivered).toEqual([]);
  });

  it('to a pending session answers `attached` and records it for the worker to pick up', async () => {
    const { deps, connections, inbox } = setup({
      rows: [pending('s1')],
      connections: [connection('c1', 't1')],
    });
    const answer = await attachClient(deps, {
      connectionId: 'c1',
      body: { action: 'attach', sessionId: 's1' },
    });
    expect(answer).toEqual({ type: 'attached', sessionId: 's1', status: 'pending' });
    expect(await connections.attached('t1', 's1')).toEqual(['c1']);
    expect(inbox.delivered).toEqual([]);
  });

  it("to a live session delivers `attach` to its worker's inbox, which answers the client", async () => {
    const { deps, connections, inbox } = setup({
      rows: [live(pending('s1'))],
      connections: [connection('c1', 't1')],
    });
    const answer = await attachClient(deps, {
      connectionId: 'c1',
      body: { action: 'attach', sessionId: 's1' },
    });
    expect(answer).toBeUndefined();
    expect(inbox.delivered).toEqual([
      {
        endpoint: ENDPOINT,
        sessionId: 's1',
        tenantId: 't1',
        message: { kind: 'attach', connectionId: 'c1' },
      },
    ]);
    expect(await connections.attached('t1', 's1')).toEqual(['c1']);
  });

  it('a session that went live between the read and the row write still gets the attach delivered', async () => {
    // Timeline: attach reads the session (pending); the worker marks it live and reads the
    // attached connections (none yet); attach writes its row. Only a second read after the
    // write can see the session live, so the worker must hear of the attach from the inbox.
    const s = pending('s1');
    const racing = new FirstReadStale(s, live(s));
    const { deps, inbox } = setup({ connections: [connection('c1', 't1')] });
    const answer = await attachClient(
      { ...deps, sessions: racing },
      { connectionId: 'c1', body: { action: 'attach', sessionId: 's1' } },
    );
    expect(racing.reads).toBe(2);
    expect(answer).toBeUndefined();
    expect(inbox.delivered.map((d) => d.message)).toEqual([{ kind: 'attach', connectionId: 'c1' }]);
  });

  it('to an ended session is SESSION_NOT_LIVE, with its end reason', async () => {
    const closed = transitionSession(live(pending('s1')), { kind: 'close' }, Date.now());
    if (!closed.ok) throw new Error(closed.reason);
    const { deps, connections } = setup({ rows: [closed.session], connections: [connection('c1', 't1')] });
    const error = await refusal(
      attachClient(deps, { connectionId: 'c1', body: { action: 'attach', sessionId: 's1' } }),
    );
    expect(error.code).toBe('SESSION_NOT_LIVE');
    expect(error.message).toContain('CLOSED_BY_CLIENT');
    expect(connections.rows.get('c1')?.sessionId).toBeUndefined();
  });

  it('an unknown connection (its $connect never landed) is UNAUTHORIZED', async () => {
    const { deps } = setup({ rows: [pending('s1')] });
    const error = await refusal(
      attachClient(deps, { connectionId: 'gone', body: { action: 'attach', sessionId: 's1' } }),
    );
    expect(error.code).toBe('UNAUTHORIZED');
  });
});

describe('detach and disconnect', () => {
  it("detach tells the live session's worker, clears the row and answers `detached`", async () => {
    const { deps, connections, inbox } = setup({
      rows: [live(pending('s1'))],
      connections: [connection('c1', 't1', { sessionId: 's1' })],
    });
    expect(await detachClient(deps, { connectionId: 'c1', body: { action: 'detach' } })).toEqual({
      type: 'detached',
      sessionId: 's1',
    });
    expect(inbox.delivered.map((d) => d.message)).toEqual([{ kind: 'detach', connectionId: 'c1' }]);
    expect(await connections.attached('t1', 's1')).toEqual([]);
    expect(connections.rows.has('c1')).toBe(true);
  });

  it('detach while not attached is NOT_ATTACHED', async () => {
    const { deps, inbox } = setup({ connections: [connection('c1', 't1')] });
    const error = await refusal(detachClient(deps, { connectionId: 'c1', body: { action: 'detach' } }));
    expect(error.code).toBe('NOT_ATTACHED');
    expect(inbox.delivered).toEqual([]);
  });

  it('detach from a worker that cannot be reached still clears the row', async () => {
    const { deps, connections, inbox } = setup({
      rows: [live(pending('s1'))],
      connections: [connection('c1', 't1', { sessionId: 's1' })],
    });
    inbox.failWith = new BrowserfleetError('SESSION_UNREACHABLE', 'The worker did not answer.');
    await detachClient(deps, { connectionId: 'c1', body: { action: 'detach' } });
    expect(await connections.attached('t1', 's1')).toEqual([]);
  });

  it('disconnect tells the worker and removes the connection row', async () => {
    const { deps, connections, inbox } = setup({
      rows: [live(pending('s1'))],
      connections: [connection('c1', 't1', { sessionId: 's1' })],
    });
    await disconnectClient(deps, { connectionId: 'c1' });
    expect(connections.rows.has('c1')).toBe(false);
    expect(inbox.delivered.map((d) => d.message)).toEqual([{ kind: 'detach', connectionId: 'c1' }]);
  });
});

describe('command', () => {
  const navigate = (params: Record<string, unknown>) => ({
    action: 'command',
    id: 'm1',
    method: 'navigate',
    params,
  });

  it('with bad params is VALIDATION_FAILED naming the field, and nothing is delivered', async () => {
    const { deps, inbox } = setup({
      rows: [live(pending('s1'))],
      connections: [connection('c1', 't1', { sessionId: 's1' })],
    });
    const error = await refusal(
      forwardToSession(deps, { connectionId: 'c1', body: navigate({ url: 'file:///etc/passwd' }) }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe('params.url: must be an absolute http(s) URL');
    expect(inbox.delivered).toEqual([]);
  });

  it('while not attached is NOT_ATTACHED, and nothing is delivered', async () => {
    const { deps, inbox } = setup({ rows: [live(pending('s1'))], connections: [connection('c1', 't1')] });
    const error = await refusal(
      forwardToSession(deps, { connectionId: 'c1', body: navigate({ url: 'https://example.test/' }) }),
    );
    expect(error.code).toBe('NOT_ATTACHED');
    expect(inbox.delivered).toEqual([]);
  });

  it('to a session not live yet is SESSION_NOT_LIVE', async () => {
    const { deps, inbox } = setup({
      rows: [pending('s1')],
      connections: [connection('c1', 't1', { sessionId: 's1' })],
    });
    const error = await refusal(
      forwardToSession(deps, { connectionId: 'c1', body: navigate({ url: 'https://example.test/' }) }),
    );
    expect(error.code).toBe('SESSION_NOT_LIVE');
    expect(inbox.delivered).toEqual([]);
  });

  it("attached to a live session goes to its worker's inbox, params as sent", async () => {
    const { deps, inbox } = setup({
      rows: [live(pending('s1'))],
      connections: [connection('c1', 't1', { sessionId: 's1' })],
    });
    await forwardToSession(deps, { connectionId: 'c1', body: navigate({ url: 'https://example.test/' }) });
    expect(inbox.delivered).toEqual([
      {
        endpoint: ENDPOINT,
        sessionId: 's1',
        tenantId: 't1',
        message: {
          kind: 'command',
          connectionId: 'c1',
          command: {
            action: 'command',
            id: 'm1',
            method: 'navigate',
            params: { url: 'https://example.test/' },
            timeoutMs: 30_000,
          },
        },
      },
    ]);
  });
});
