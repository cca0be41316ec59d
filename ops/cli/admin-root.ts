/**
 * The composition root of `browserfleet admin`: the only part of it that reads the
 * environment and builds AWS clients. Loaded by ops/cli/admin.ts when an admin command
 * runs, so the rest of the CLI starts without the AWS SDK.
 *
 * Reads STATE_TABLE_NAME, AWS_REGION, AWS_ENDPOINT_URL[_DYNAMODB] and EGRESS_ALLOW or, with
 * `local`, points at the local cloud `npm start` runs (table browserfleet-state-local on
 * 127.0.0.1:$PORT+1).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { systemDnsResolver } from '../../shared/adapters/dns-resolver.js';
import { DynamoDbTaskStore } from '../../shared/adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { DynamoDbUsageLedger } from '../../shared/adapters/dynamodb-usage-ledger.js';
import { systemClock } from '../../shared/clock.js';
import { ENV, resourceName, STATE_TABLE } from '../../shared/contracts.js';
import { checkDestination, parseEgressAllowList } from '../../shared/egress/egress-policy.js';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  showTenant,
  type TenantAdminDeps,
  upsertTenant,
  viewOfTenant,
} from '../../shared/tenancy/manage-tenants.js';
import type { TenantLimits } from '../../shared/tenancy/tenant.js';
import { verifyUsage } from '../../shared/tenancy/verify-usage.js';
import {
  addEndpoint,
  listWebhooks,
  removeEndpoint,
  rotateSigningSecret,
} from '../../shared/webhooks/manage-webhooks.js';
import { UsageError } from './output.js';

const adminEnvSchema = z.object({
  [ENV.stateTable]: z.string().optional(),
  // Unset: the SDK's own region resolution (AWS_REGION, then the profile's region).
  [ENV.awsRegion]: z.string().optional(),
  [ENV.awsEndpointUrl]: z.url().optional(),
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  [ENV.port]: z.coerce.number().int().default(3000),
  /** The operator's egress allow-list: webhook endpoints are checked against it. */
  [ENV.egressAllow]: z.string().optional(),
});

/**
 * The admin use cases on the state table the environment names; `close` frees the
 * clients' sockets. A missing table or a malformed variable is a UsageError (exit 2),
 * raised before anything is asked of AWS.
 */
export const openAdmin = (options: { local: boolean }) => {
  const parsed = adminEnvSchema.safeParse(
    Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')),
  );
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const env = parsed.data;
  const table = options.local ? resourceName(STATE_TABLE.baseName, 'local') : env[ENV.stateTable];
  if (table === undefined) {
    throw new UsageError(`set ${ENV.stateTable} (or pass --local for the local cloud).`);
  }
  const endpoint = options.local
    ? `http://127.0.0.1:${env[ENV.port] + 1}`
    : (env.AWS_ENDPOINT_URL_DYNAMODB ?? env[ENV.awsEndpointUrl]);
  const clients = createAwsClients({ region: env[ENV.awsRegion], endpoints: { dynamodb: endpoint } });
  const deps: TenantAdminDeps = {
    tenants: new DynamoDbTenantStore(clients.dynamo, table),
    clock: systemClock,
    random: randomBytes,
  };
  const upsert = async (input: { tenantId: string; name?: string; limits: Partial<TenantLimits> }) =>
    viewOfTenant(await upsertTenant(deps, input));
  return {
    /** Where the commands go, for messages: the table and its endpoint. */
    where: `the state table ${table}${endpoint === undefined ? '' : ` at ${endpoint}`}`,
    tenants: {
      upsert,
      show: (tenantId: string) => showTenant(deps, tenantId),
    },
    keys: {
      create: (input: { tenantId: string; name?: string }) => createApiKey(deps, input),
      list: (tenantId: string) => listApiKeys(deps, tenantId),
      revoke: (input: { tenantId: string; prefix: string }) => revokeApiKey(deps, input),
      rotate: (input: { tenantId: string; prefix: string }) => rotateApiKey(deps, input),
    },
    webhooks: {
      add: (input: { tenantId: string; url: string; events?: string[] }) =>
        addEndpoint(
          {
            ...deps,
            // The egress guard, as a page URL gets it: a private or metadata address is refused here.
            checkDestination: (url) =>
              checkDestination(url, {
                allow: parseEgressAllowList(env[ENV.egressAllow]),
                resolve: systemDnsResolver,
              }),
          },
          input,
        ),
      list: (tenantId: string) => listWebhooks(deps, tenantId),
      remove: (input: { tenantId: string; endpointId: string }) => removeEndpoint(deps, input),
      rotateSecret: (input: { tenantId: string; overlapMs?: number }) => rotateSigningSecret(deps, input),
    },
    verifyUsage: (input: { tenantId?: string | undefined; fix: boolean }) =>
      verifyUsage(
        {
          ledger: new DynamoDbUsageLedger(clients.dynamo, table),
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        },
        input,
      ),
    backfillHistory: () => new DynamoDbTaskStore(clients.dynamo, table).backfillHistoryKeys(),
    close: () => destroyAwsClients(clients),
  };
};

export type AdminRoot = ReturnType<typeof openAdmin>;
