/**
 * API-key authentication. A key is presented as `Authorization: Bearer <key>`; the
 * verifier maps it to a tenant. Keys are compared as SHA-256 digests in constant time, so
 * neither their length nor a matching prefix leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';

export interface Tenant {
  tenantId: string;
}

/** Port: finds the tenant a presented key belongs to. */
export interface ApiKeyVerifier {
  verify(key: string): Promise<Tenant | undefined>;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** One configured key for one tenant: the local cloud's `LOCAL_API_KEY`, or a stage's key. */
export class StaticApiKeyVerifier implements ApiKeyVerifier {
  private readonly expected: Buffer;

  constructor(
    key: string,
    private readonly tenant: Tenant = { tenantId: 'default' },
  ) {
    this.expected = digest(key);
  }

  async verify(key: string): Promise<Tenant | undefined> {
    return timingSafeEqual(digest(key), this.expected) ? this.tenant : undefined;
  }
}

/** Reads the bearer key from an Authorization header value, or explains what is wrong. */
export const authenticate = async (
  verifier: ApiKeyVerifier,
  authorization: string | undefined,
): Promise<Tenant> => {
  if (authorization === undefined || authorization.trim() === '') {
    throw new BrowserfleetError(
      ERROR_CODES.UNAUTHORIZED,
      'Missing API key: send it as "Authorization: Bearer <key>".',
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (match?.[1] === undefined) {
    throw new BrowserfleetError(
      ERROR_CODES.UNAUTHORIZED,
      'Malformed Authorization header: expected "Bearer <key>".',
    );
  }
  const tenant = await verifier.verify(match[1]);
  if (tenant === undefined) {
    throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Invalid API key.');
  }
  return tenant;
};
