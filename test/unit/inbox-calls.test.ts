/**
 * The worker inbox's command calls, both ends: the call path and body codecs (a body the
 * edge would refuse is refused here too), and the HTTP client against the real inbox server
 * on 127.0.0.1 with a stand-in host — signed calls answered with the command's outcome, an
 * unsigned or mis-signed one 401, a session not hosted here 404 — each translated into the
 * error family by the client. And a call waits its turn behind the session's other commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInbox, startInboxServer } from '../../container/inbox-server.js';
import { HttpSessionInbox } from '../../shared/adapters/http-session-inbox.js';
import { BrowserfleetError } from '../../shared/errors.js';
import { noopMetrics } from '../../shared/metrics/metrics.js';
import { SessionCommandRunner } from '../../shared/session/command-runner.js';
import type { SessionHost } from '../../shared/session/host-session.js';
import {
  decodeCommandOutcome,
  decodeInboxCallBody,
  encodeInboxCallBody,
  inboxCallPath,
  inboxPath,
  sessionIdOfInboxCallPath,
  sessionIdOfInboxPath,
  signInboxCall,
} from '../../shared/session/inbox-protocol.js';
import type { CommandOutcome, ServerMessage, SessionBrowser } from '../../shared/session/ports.js';
import type { CommandMessage } from '../../shared/session/session-input.js';
import type { TicketKeys } from '../../shared/session/ticket-keys.js';
import { fakeClock } from '../support/fake-clock.js';
import { deferred, FakeArtifacts } from '../support/fakes.js';

const SECRET = 'inbox-calls-test-secret-0123456789abcdef';
const keysOf = (secret: string): TicketKeys => ({
  signingKey: async () => secret,
  verificationKeys: async () => [secret],
  refresh: async () => false,
});

const command = (method: string, params: Record<string, unknown> = {}): CommandMessage => ({
  action: 'command',
  id: 'c1',
  method: method as CommandMessage['method'],
  params,
  timeoutMs: 2_000,
});

describe('the call path and its codecs', () => {
  it('a call path names its session and is no message path (nor the other way round)', () => {
    const id = '0193f0e1-aaaa-7bbb-8ccc-123456789abc';
    expect(sessionIdOfInboxCallPath(inboxCallPath(id))).toBe(id);
    expect(sessionIdOfInboxPath(inboxCallPath(id))).toBeUndefined();
    expect(sessionIdOfInboxCallPath(inboxPath(id))).toBeUndefined();
    for (const path of [
      '/inbox/sessions/a/calls/x',
      '/inbox/sessions//calls',
      `/inbox/sessions/${'a'.repeat(65)}/calls`,
    ]) {
      expect(sessionIdOfInboxCallPath(path), path).toBeUndefined();
    }
  });

  it('a body round-trips; one with a command the edge would refuse, or anything else, does not', () => {
    const body = { tenantId: 't1', command: command('snapshot', { maxChars: 500 }) };
    expect(decodeInboxCallBody(encodeInboxCallBody(body))).toEqual(body);
    for (const text of [
      '',
      'null',
      '{"tenantId":"t1"}',
      JSON.stringify({ tenantId: 1, command: command('back') }),
      JSON.stringify({ tenantId: 't1', command: command('back'), extra: 1 }),
      JSON.stringify({ tenantId: 't1', command: command('snapshot', { maxChars: 1 }) }),
      JSON.stringify({ tenantId: 't1', command: { ...command('back'), method: 'shell' } }),
      JSON.stringify({ tenantId: 't1', command: { ...command('back'), action: 'attach' } }),
    ]) {
      expect(decodeInboxCallBody(text), text).toBeUndefined();
    }
  });

  it('an outcome decodes only as { ok: true, result } or { ok: false, error: { code, message } }', () => {
    expect(decodeCommandOutcome('{"ok":true,"result":{"a":1}}')).toEqual({ ok: true, result: { a: 1 } });
    expect(decodeCommandOutcome('{"ok":true}')).toEqual({ ok: true, result: null });
    expect(decodeCommandOutcome('{"ok":false,"error":{"code":"TIMEOUT","message":"slow"}}')).toEqual({
      ok: false,
      error: { code: 'TIMEOUT', message: 'slow' },
    });
    for (const text of ['', '{}', '{"ok":false}', '{"ok":false,"error":{"code":1,"message":"m"}}', '[]']) {
      expect(decodeCommandOutcome(text), text).toBeUndefined();
    }
  });
});

describe('a call over HTTP to the inbox server', () => {
  let inbox: RunningInbox;
  let endpoint: string;
  const called: { sessionId: string; tenantId: string; command: CommandMessage }[] = [];
  const host = {
    count: () => 1,
    deliver: () => false,
    call: (sessionId: string, tenantId: string, c: CommandMessage): Promise<CommandOutcome> | undefined => {
      if (sessionId !== 's1' || tenantId !== 't1') return undefined;
      called.push({ sessionId, tenantId, command: c });
      // A command stuck behind others: it answers long after the caller stopped waiting.
      if (c.method === 'wait')
        return new Promise((resolve) => setTimeout(() => resolve({ ok: true, result: null }), 2_000));
      return Promise.resolve(
        c.method === 'click'
          ? { ok: false, error: { code: 'STALE_REF', message: 'Ref e9 is gone.' } }
          : { ok: true, result: { method: c.method } },
      );
    },
  };

  beforeAll(async () => {
    inbox = await startInboxServer(
      {
        host: host as unknown as SessionHost,
        sessions: undefined as never,
        servers: undefined as never,
        keys: keysOf(SECRET),
        self: () => endpoint,
        log: () => {},
      },
      { port: 0, host: '127.0.0.1' },
    );
    endpoint = `http://127.0.0.1:${inbox.port}`;
  });
  afterAll(() => inbox?.close());

  const refusal = async (work: Promise<unknown>): Promise<BrowserfleetError> => {
    try {
      await work;
    } catch (error) {
      if (error instanceof BrowserfleetError) return error;
      throw error;
    }
    throw new Error('answered');
  };

  it("answers a signed call with the command's outcome, success or failure", async () => {
    const client = new HttpSessionInbox(keysOf(SECRET));
    const session = { tenantId: 't1', id: 's1' };
    expect(await client.call(endpoint, session, command('snapshot'))).toEqual({
      ok: true,
      result: { method: 'snapshot' },
    });
    expect(await client.call(endpoint, session, command('click', { ref: 'e9' }))).toEqual({
      ok: false,
      error: { code: 'STALE_REF', message: 'Ref e9 is gone.' },
    });
    expect(called.map((c) => c.command.method)).toEqual(['snapshot', 'click']);
  });

  it("answers 404 for a session not hosted here or not the tenant's: SESSION_NOT_LIVE", async () => {
    const client = new HttpSessionInbox(keysOf(SECRET));
    const missing = await refusal(client.call(endpoint, { tenantId: 't1', id: 's2' }, command('back')));
    const theirs = await refusal(client.call(endpoint, { tenantId: 't2', id: 's1' }, command('back')));
    expect([missing.code, theirs.code]).toEqual(['SESSION_NOT_LIVE', 'SESSION_NOT_LIVE']);
  });

  it('answers 401 to a call signed with another key, or signed for another path', async () => {
    const before = called.length;
    const wrongKey = await refusal(
      new HttpSessionInbox(keysOf('another-secret-0123456789abcdef0123')).call(
        endpoint,
        { tenantId: 't1', id: 's1' },
        command('back'),
      ),
    );
    expect(wrongKey.code).toBe('SESSION_UNREACHABLE');
    expect(wrongKey.message).toMatch(/\(401\)/);
    // A message's signature moved onto the call path: the path is part of what is signed.
    const body = encodeInboxCallBody({ tenantId: 't1', command: command('back') });
    const headers = signInboxCall(SECRET, { path: inboxPath('s1'), body }, Date.now() / 1000);
    const moved = await fetch(`${endpoint}${inboxCallPath('s1')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    expect(moved.status).toBe(401);
    const unsigned = await fetch(`${endpoint}${inboxCallPath('s1')}`, { method: 'POST', body });
    expect(unsigned.status).toBe(401);
    expect(called.length).toBe(before);
  });

  it('answers 400 to a signed body of the wrong shape', async () => {
    const body = JSON.stringify({ tenantId: 't1', command: { ...command('back'), method: 'shell' } });
    const path = inboxCallPath('s1');
    const res = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signInboxCall(SECRET, { path, body }, Date.now() / 1000),
      },
      body,
    });
    expect(res.status).toBe(400);
  });

  it('a call past its wait is TIMEOUT, not a worker gone', async () => {
    const client = new HttpSessionInbox(keysOf(SECRET), { maxCallWaitMs: 200 });
    const started = Date.now();
    const error = await refusal(
      client.call(endpoint, { tenantId: 't1', id: 's1' }, command('wait', { text: 'x' })),
    );
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/did not answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a worker that does not answer is SESSION_UNREACHABLE', async () => {
    const closed = await startInboxServer(
      {
        host: host as unknown as SessionHost,
        sessions: undefined as never,
        servers: undefined as never,
        keys: keysOf(SECRET),
        self: () => '',
        log: () => {},
      },
      { port: 0, host: '127.0.0.1' },
    );
    const gone = `http://127.0.0.1:${closed.port}`;
    await closed.close();
    const error = await refusal(
      new HttpSessionInbox(keysOf(SECRET)).call(gone, { tenantId: 't1', id: 's1' }, command('back')),
    );
    expect(error.code).toBe('SESSION_UNREACHABLE');
  });
});

describe("a call in the session's command queue", () => {
  it('runs after the commands queued before it, and answers what the runner would send a client', async () => {
    const gate = deferred();
    const ran: string[] = [];
    const browser = {
      execute: async (method: string) => {
        ran.push(`start ${method}`);
        if (method === 'navigate') await gate.promise;
        ran.push(`end ${method}`);
        return method === 'evaluate' ? { value: 2 } : null;
      },
    } as unknown as SessionBrowser;
    const runner = new SessionCommandRunner(
      {
        clock: fakeClock(),
        artifacts: new FakeArtifacts(),
        artifactUrlTtlSeconds: 60,
        metrics: noopMetrics,
        log: () => {},
      },
      () => ({ sessionId: 's1', status: 'live', browser }),
      () => {},
    );
    const sent: ServerMessage[] = [];
    runner.enqueue(command('navigate', { url: 'https://example.test/' }), async (m) => {
      sent.push(m);
    });
    const call = runner.call({ ...command('evaluate', { expression: '1 + 1' }), id: 'c2' });
    const bad = runner.call({ ...command('press', {}), id: 'c3' });
    await Promise.resolve();
    expect(ran).toEqual(['start navigate']);
    gate.resolve();
    expect(await call).toEqual({ ok: true, result: { value: 2 } });
    expect(ran).toEqual(['start navigate', 'end navigate', 'start evaluate', 'end evaluate']);
    expect(sent.map((m) => m.type)).toEqual(['result']);
    // The worker parses params again when the command's turn comes: the same refusal.
    expect(await bad).toEqual({
      ok: false,
      error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/^params\.key: /) },
    });
  });
});
