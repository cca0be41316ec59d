/**
 * The ticket secret's keys as one process sees them, read at run time and cached: the
 * current version signs; the version it replaced still verifies for a bounded window after
 * a rotation (TICKET_SECRET.previousAcceptedSeconds from the current version's creation),
 * so tickets and inbox calls signed by a process that hasn't re-read the secret yet keep
 * working, and a leaked old key stops working soon after.
 */
import type { Clock } from '../clock.js';
import { TICKET_SECRET } from '../contracts.js';
import { type InboxCall, verifyInboxCall } from './inbox-protocol.js';
import { type TicketCheck, type TicketScope, verifyTicket } from './ticket.js';

/** The secret's versions as stored: Secrets Manager's AWSCURRENT and AWSPREVIOUS. */
export interface TicketSecretVersions {
  current: {
    value: string /** When this version became current (its creation), epoch ms. */;
    createdAtMs: number;
  };
  previous?: { value: string };
}

/** Port: where the secret is read (Secrets Manager on AWS; a fixed value locally). */
export interface TicketSecretSource {
  read(): Promise<TicketSecretVersions>;
}

/** Port: the keys a use case signs and verifies with. */
export interface TicketKeys {
  /** The key new tickets and inbox calls are signed with. */
  signingKey(): Promise<string>;
  /** The keys a signature may be made with now, current first. */
  verificationKeys(): Promise<readonly string[]>;
  /**
   * Re-reads the secret now, unless it was read within TICKET_SECRET.refreshFloorSeconds;
   * whether it did. Called when no known key matched a signature.
   */
  refresh(): Promise<boolean>;
}

/** The keys that verify at `nowMs`: the previous one only inside its window. */
export const keysAcceptedAt = (versions: TicketSecretVersions, nowMs: number): readonly string[] => {
  const { current, previous } = versions;
  const windowEndsMs = current.createdAtMs + TICKET_SECRET.previousAcceptedSeconds * 1000;
  return previous === undefined || nowMs >= windowEndsMs ? [current.value] : [current.value, previous.value];
};

/** A fixed secret (the local cloud, tests): nothing rotates. */
export const fixedTicketSecret = (value: string): TicketSecretSource => ({
  read: async () => ({ current: { value, createdAtMs: 0 } }),
});

export interface CachedTicketKeysOptions {
  maxAgeMs?: number;
  refreshFloorMs?: number;
}

/**
 * TicketKeys over a source, cached for TICKET_SECRET.cacheSeconds. Concurrent callers share
 * one read. A failed re-read keeps the keys already known (a Secrets Manager blip must not
 * fail every ticket) and is tried again on the next call; with nothing known, it throws.
 */
export class CachedTicketKeys implements TicketKeys {
  private cached: { versions: TicketSecretVersions; readAtMs: number } | undefined;
  private reading: Promise<TicketSecretVersions> | undefined;
  private lastReadStartMs = Number.NEGATIVE_INFINITY;
  private readonly maxAgeMs: number;
  private readonly refreshFloorMs: number;

  constructor(
    private readonly source: TicketSecretSource,
    private readonly clock: Clock,
    options: CachedTicketKeysOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? TICKET_SECRET.cacheSeconds * 1000;
    this.refreshFloorMs = options.refreshFloorMs ?? TICKET_SECRET.refreshFloorSeconds * 1000;
  }

  async signingKey(): Promise<string> {
    return (await this.versions()).current.value;
  }

  async verificationKeys(): Promise<readonly string[]> {
    return keysAcceptedAt(await this.versions(), this.clock.now());
  }

  async refresh(): Promise<boolean> {
    if (this.clock.now() - this.lastReadStartMs < this.refreshFloorMs) return false;
    await this.read();
    return true;
  }

  private async versions(): Promise<TicketSecretVersions> {
    const cached = this.cached;
    if (cached !== undefined && this.clock.now() - cached.readAtMs < this.maxAgeMs) return cached.versions;
    try {
      return await this.read();
    } catch (error) {
      if (cached !== undefined) return cached.versions;
      throw error;
    }
  }

  private read(): Promise<TicketSecretVersions> {
    if (this.reading !== undefined) return this.reading;
    const startedAtMs = this.clock.now();
    this.lastReadStartMs = startedAtMs;
    this.reading = this.source
      .read()
      .then((versions) => {
        this.cached = { versions, readAtMs: startedAtMs };
        return versions;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}

/**
 * `verifyTicket` with the keys known now, and once more after a re-read when no key matched
 * (the ticket may be signed with a key this process hasn't read yet).
 */
export const verifyTicketWithKeys = async (
  keys: TicketKeys,
  ticket: string,
  expected: { scope: TicketScope; nowSeconds: number; sessionId?: string },
): Promise<TicketCheck> => {
  const check = verifyTicket(await keys.verificationKeys(), ticket, expected);
  if (check.ok || check.reason !== 'bad-signature' || !(await keys.refresh())) return check;
  return verifyTicket(await keys.verificationKeys(), ticket, expected);
};

/** `verifyInboxCall` with the keys known now, and once more after a re-read. */
export const verifyInboxCallWithKeys = async (
  keys: TicketKeys,
  call: InboxCall,
  headers: { timestamp: string; signature: string },
  nowSeconds: number,
): Promise<boolean> => {
  if (verifyInboxCall(await keys.verificationKeys(), call, headers, nowSeconds)) return true;
  if (!(await keys.refresh())) return false;
  return verifyInboxCall(await keys.verificationKeys(), call, headers, nowSeconds);
};
