/**
 * The worker inbox protocol's parts that both ends take from one module: the path each
 * session's inbox lives at, and the body codec that refuses anything but `{ tenantId,
 * message }` (signing is covered with the tickets, in session-state-machine.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeInboxBody,
  encodeInboxBody,
  inboxPath,
  sessionIdOfInboxPath,
} from '../../shared/session/inbox-protocol.js';

describe('worker inbox protocol', () => {
  it('the server reads the session id from the path the client writes', () => {
    expect(sessionIdOfInboxPath(inboxPath('0193f0e1-aaaa-7bbb-8ccc-123456789abc'))).toBe(
      '0193f0e1-aaaa-7bbb-8ccc-123456789abc',
    );
    for (const path of [
      '/inbox/sessions/',
      '/inbox/sessions/a/b',
      '/inbox/sessions/..%2Fx',
      `/inbox/sessions/${'a'.repeat(65)}`,
      '/health',
    ]) {
      expect(sessionIdOfInboxPath(path), path).toBeUndefined();
    }
  });

  it('a body round-trips, and anything else is refused', () => {
    const body = { tenantId: 'acme', message: { kind: 'close' as const } };
    expect(decodeInboxBody(encodeInboxBody(body))).toEqual(body);
    for (const text of [
      '',
      'nope',
      'null',
      '[]',
      '{}',
      '{"tenantId":1,"message":{}}',
      '{"tenantId":"a","message":null}',
      '{"tenantId":"a","message":"close"}',
    ]) {
      expect(decodeInboxBody(text), text).toBeUndefined();
    }
  });
});
