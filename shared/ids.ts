/**
 * Ids the platform issues (tasks, sessions) are UUIDs. An id of any other shape can't name
 * a row, and one longer than DynamoDB allows in a key would fail the lookup itself, so it is
 * answered `NOT_FOUND` without one.
 */
import { BrowserfleetError, ERROR_CODES } from './errors.js';

const ID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

export const isIdShaped = (id: string): boolean => ID_SHAPE.test(id);

/** The one "not found" answer, the same for a missing row and another tenant's. */
export const notFound = (kind: 'Task' | 'Session', id: string): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.NOT_FOUND,
    `${kind} ${id.length > 64 ? `${id.slice(0, 64)}…` : id} not found.`,
  );
