/**
 * Ids the platform issues (tasks, sessions) are UUIDs. An id of any other shape can't name
 * a row, and one longer than DynamoDB allows in a key would fail the lookup itself, so it is
 * answered `NOT_FOUND` without one.
 */
import { randomBytes } from 'node:crypto';
import { BrowserfleetError, ERROR_CODES } from './errors.js';

const ID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

export const isIdShaped = (id: string): boolean => ID_SHAPE.test(id);

/** The one "not found" answer, the same for a missing row and another tenant's. */
export const notFound = (kind: 'Task' | 'Session', id: string): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.NOT_FOUND,
    `${kind} ${id.length > 64 ? `${id.slice(0, 64)}…` : id} not found.`,
  );

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids of rows
 * created later sort after those of rows created earlier, so a tenant's newest sessions (or
 * tasks) are the first page of a reverse key query, not a read of its whole history.
 */
export const newTimeOrderedId = (now: number = Date.now(), random: Uint8Array = randomBytes(10)): string => {
  const bytes = new Uint8Array(16);
  let ms = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes.set(random.subarray(0, 10), 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f); // version 7
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f); // variant 10
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
