import { describe, expect, it } from 'vitest';
import { authenticate, StaticApiKeyVerifier } from '../../shared/auth/api-key.js';

const verifier = new StaticApiKeyVerifier('the-right-key-0123456789', { tenantId: 'acme' });

const refusal = async (header: string | undefined): Promise<{ code: string; message: string }> => {
  try {
    await authenticate(verifier, header);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('API key authentication', () => {
  it('maps the right key to its tenant, whatever the scheme case', async () => {
    expect(await authenticate(verifier, 'Bearer the-right-key-0123456789')).toEqual({ tenantId: 'acme' });
    expect(await authenticate(verifier, 'bearer the-right-key-0123456789')).toEqual({ tenantId: 'acme' });
  });

  it.each([
    [undefined, /Missing API key/],
    ['', /Missing API key/],
    ['Basic dXNlcjpwYXNz', /Malformed Authorization header/],
    ['Bearer', /Malformed Authorization header/],
    ['Bearer the-right-key-012345678', /Invalid API key/],
    ['Bearer the-right-key-0123456789x', /Invalid API key/],
  ])('refuses %j as UNAUTHORIZED', async (header, message) => {
    const error = await refusal(header);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toMatch(message);
  });
});
