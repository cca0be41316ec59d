/**
 * The WebSocket transport's one error table (shared/session/ws-errors.ts): every code has
 * an answer, what a client can act on is shown as it is, and everything else — faults on
 * our side and errors outside the family — is INTERNAL to the client and logged.
 */
import { describe, expect, it } from 'vitest';
import type { WsFunctionDeps } from '../../functions/ws/deps.js';
import { wsRoute } from '../../functions/ws/ws-route.js';
import { buildHandler as buildConnect } from '../../functions/ws-connect.js';
import { BrowserfleetError, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { mapWsError, WS_ERROR_RULES } from '../../shared/session/ws-errors.js';

const noLog = () => {
  throw new Error('a shown error must not be logged');
};

describe('the WebSocket error table', () => {
  it('has an answer for every code of the family', () => {
    expect(Object.keys(WS_ERROR_RULES).sort()).toEqual(Object.values(ERROR_CODES).sort());
    for (const rule of Object.values(WS_ERROR_RULES)) {
      expect(rule.connectStatus).toBeGreaterThanOrEqual(400);
    }
  });

  it('a client-facing code passes its code and message, with its handshake status', () => {
    const error = new BrowserfleetError(ERROR_CODES.RATE_LIMITED, 'Slow down: retry after 2 s.');
    expect(mapWsError(error, noLog)).toEqual({
      error: { code: 'RATE_LIMITED', message: 'Slow down: retry after 2 s.' },
      connectStatus: 429,
    });
    expect(mapWsError(new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Bad key.'), noLog).connectStatus).toBe(
      401,
    );
  });

  it('an error outside the family is INTERNAL, its message kept from the client and logged', () => {
    const logged: unknown[] = [];
    const bug = new TypeError('Cannot read properties of undefined (reading "endpoint")');
    const answer = mapWsError(bug, (e) => logged.push(e));
    expect(answer.error.code).toBe('INTERNAL');
    expect(answer.error.message).not.toContain('endpoint');
    expect(answer.connectStatus).toBe(500);
    expect(logged).toEqual([bug]);
  });

  it('a hidden code of the family is INTERNAL too, and logged', () => {
    const hiddenCodes = (Object.keys(WS_ERROR_RULES) as ErrorCode[]).filter(
      (c) => WS_ERROR_RULES[c].client === 'hidden',
    );
    expect(hiddenCodes).toEqual(expect.arrayContaining(['INTERNAL', 'LEASE_LOST', 'CONFIG_INVALID']));
    for (const code of hiddenCodes) {
      const logged: unknown[] = [];
      const error = new BrowserfleetError(code, 'table sessions-prod-state: lease of w-17 lost');
      const answer = mapWsError(error, (e) => logged.push(e));
      expect(answer.error.code, code).toBe('INTERNAL');
      expect(answer.error.message, code).not.toContain('sessions-prod-state');
      expect(logged, code).toEqual([error]);
    }
  });
});

/** Just enough of the functions' deps for the two senders, with the logger recording errors. */
const senderDeps = (connect: () => Promise<never>) => {
  const errors: { message: string; details: unknown }[] = [];
  const metrics = new RecordingMetrics();
  const deps = {
    logger: {
      error: (message: string, details: unknown) => errors.push({ message, details }),
      info: () => {},
      warn: () => {},
    },
    metrics,
    clock: { now: () => Date.parse('2026-12-01T00:00:00Z') },
    verifier: { verify: connect },
  } as unknown as WsFunctionDeps;
  return { deps, errors, metrics };
};

describe('the WebSocket senders answer by the table', () => {
  const connectEvent = {
    requestContext: { connectionId: 'c1', routeKey: '$connect', eventType: 'CONNECT' as const },
    headers: { Authorization: 'Bearer k' },
  };

  it('$connect refuses a hidden code with 500 and logs it', async () => {
    const { deps, errors } = senderDeps(async () => {
      throw new BrowserfleetError(ERROR_CODES.CONFIG_INVALID, 'STATE_TABLE is unset');
    });
    const result = await buildConnect(deps)(connectEvent);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('STATE_TABLE');
    expect(errors).toEqual([
      {
        message: 'ws connect failed',
        details: { error: expect.objectContaining({ code: 'CONFIG_INVALID' }) },
      },
    ]);
  });

  it('$connect refuses a bad key with 401, its message and the AuthFailures metric', async () => {
    const { deps, errors, metrics } = senderDeps(async () => {
      throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Invalid or revoked API key.');
    });
    const result = await buildConnect(deps)(connectEvent);
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body ?? '{}')).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'Invalid or revoked API key.' },
    });
    expect(metrics.total('AuthFailures')).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a route answers a hidden code as INTERNAL with the message id, and logs it', async () => {
    const { deps, errors } = senderDeps(async () => {
      throw new Error('unused');
    });
    const route = wsRoute(deps, async () => {
      throw new BrowserfleetError(ERROR_CODES.LEASE_LOST, 'lease token 4 is stale');
    });
    const result = await route({
      requestContext: { connectionId: 'c1', routeKey: 'command', eventType: 'MESSAGE' },
      body: JSON.stringify({ action: 'command', id: 'm1' }),
    });
    const message = JSON.parse(result.body ?? '{}');
    expect(message).toMatchObject({ type: 'error', id: 'm1', error: { code: 'INTERNAL' } });
    expect(message.error.message).not.toContain('lease token');
    expect(errors).toEqual([
      {
        message: 'ws route failed',
        details: { route: 'command', error: expect.objectContaining({ code: 'LEASE_LOST' }) },
      },
    ]);
  });
});
