/**
 * The region is the SDK's to resolve when AWS_REGION is unset (`npm run admin` on an
 * operator's machine with a profile), never a default of ours; emulators get one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { loadWsConfig } from '../../shared/config.js';

const saved = { AWS_REGION: process.env.AWS_REGION };
afterEach(() => {
  if (saved.AWS_REGION === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = saved.AWS_REGION;
});

describe('AWS region', () => {
  it('is left unset by the config when AWS_REGION is, rather than defaulted', () => {
    const config = loadWsConfig({ STATE_TABLE_NAME: 't', SESSION_TICKET_SECRET: 's'.repeat(32) });
    expect(config.aws.region).toBeUndefined();
  });

  it("is resolved by the SDK's own chain when none is given", async () => {
    // The SDK reads AWS_REGION when the client first needs a region: after the config did.
    process.env.AWS_REGION = 'eu-west-3';
    const clients = createAwsClients({ endpoints: {} });
    try {
      expect(await clients.sqs.config.region()).toBe('eu-west-3');
      expect(await clients.dynamo.config.region()).toBe('eu-west-3');
    } finally {
      destroyAwsClients(clients);
    }
  });

  it('is a fixed one for emulators, which only sign with it', async () => {
    delete process.env.AWS_REGION;
    const clients = createAwsClients({ endpoints: { sqs: 'http://127.0.0.1:1' } });
    try {
      expect(await clients.sqs.config.region()).toBe('us-east-1');
    } finally {
      destroyAwsClients(clients);
    }
  });
});
