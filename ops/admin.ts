/**
 * `npm run admin -- <command>`: the operator's CLI for tenants and API keys. A composition
 * root: it reads the environment (STATE_TABLE_NAME, AWS_REGION, AWS_ENDPOINT_URL[_DYNAMODB])
 * or, with `--local`, points at the local cloud `npm start` runs (table
 * browserfleet-state-local on 127.0.0.1:$PORT+1).
 *
 *   tenant create <id> [--name N] [--rps R] [--burst B] [--max-queued Q] [--max-running R] [--max-sessions S]
 *   tenant limits <id> [same limit flags]
 *   tenant show <id>
 *   key create <tenant> [--name N]        prints the key once
 *   key list <tenant>
 *   key revoke <tenant> <prefix>
 *   key rotate <tenant> <prefix>          prints the new key once, revokes the old
 *   webhook add <tenant> <url> [--events task.succeeded,task.failed,…]
 *                                         a default endpoint (all events unless --events)
 *   webhook list <tenant>                 endpoints, and the signing secrets' times (not their values)
 *   webhook remove <tenant> <endpoint-id>
 *   webhook rotate-secret <tenant> [--overlap-hours H]
 *                                         prints the new whsec_ secret once; the previous ones
 *                                         keep signing for H hours (default 24)
 *   usage verify [<tenant>] [--fix]       recounts live tasks and sessions from the rows and
 *                                         compares them with the usage counters; exits 1 on
 *                                         a difference (with --fix: sets them to the recount)
 *   tasks backfill-history                once after upgrading from a release without task
 *                                         history: lists the tasks written before it too
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { systemDnsResolver } from '../shared/adapters/dns-resolver.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../shared/adapters/dynamodb-tenant-store.js';
import { DynamoDbUsageLedger } from '../shared/adapters/dynamodb-usage-ledger.js';
import { systemClock } from '../shared/clock.js';
import { ENV, resourceName, STATE_TABLE } from '../shared/contracts.js';
import { checkDestination, parseEgressAllowList } from '../shared/egress/egress-policy.js';
import { isBrowserfleetError } from '../shared/errors.js';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  type TenantAdminDeps,
  upsertTenant,
} from '../shared/tenancy/manage-tenants.js';
import type { TenantLimits } from '../shared/tenancy/tenant.js';
import { verifyUsage } from '../shared/tenancy/verify-usage.js';
import {
  addEndpoint,
  listEndpoints,
  removeEndpoint,
  rotateSigningSecret,
} from '../shared/webhooks/manage-webhooks.js';

const USAGE = `usage: npm run admin -- [--local] <command>
  tenant create <id> [--name N] [--rps R] [--burst B] [--max-queued Q] [--max-running R] [--max-sessions S]
  tenant limits <id> [limit flags as above]
  tenant show <id>
  key create <tenant> [--name N]
  key list <tenant>
  key revoke <tenant> <prefix>
  key rotate <tenant> <prefix>
  webhook add <tenant> <url> [--events task.succeeded,task.failed,task.cancelled,session.ended]
  webhook list <tenant>
  webhook remove <tenant> <endpoint-id>
  webhook rotate-secret <tenant> [--overlap-hours H]
  usage verify [<tenant>] [--fix]
  tasks backfill-history`;

const fail = (message: string, code = 2): never => {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(code);
};

const { values: flags, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        local: { type: 'boolean' },
        name: { type: 'string' },
        rps: { type: 'string' },
        burst: { type: 'string' },
        'max-queued': { type: 'string' },
        'max-running': { type: 'string' },
        'max-sessions': { type: 'string' },
        fix: { type: 'boolean' },
        events: { type: 'string' },
        'overlap-hours': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

// `--help` anywhere (`admin --help`, `admin webhook add --help`): the usage, on stdout, exit 0.
if (flags.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const envSchema = z.object({
  [ENV.stateTable]: z.string().optional(),
  // Unset: the SDK's own region resolution (AWS_REGION, then the profile's region).
  [ENV.awsRegion]: z.string().optional(),
  [ENV.awsEndpointUrl]: z.url().optional(),
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  [ENV.port]: z.coerce.number().int().default(3000),
  /** The operator's egress allow-list: webhook endpoints are checked against it. */
  [ENV.egressAllow]: z.string().optional(),
});
const env = envSchema.parse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
const local = flags.local === true;
const table = local ? resourceName(STATE_TABLE.baseName, 'local') : env[ENV.stateTable];
if (table === undefined) fail(`Set ${ENV.stateTable} (or pass --local for the local cloud).`);
const endpoint = local
  ? `http://127.0.0.1:${env[ENV.port] + 1}`
  : (env.AWS_ENDPOINT_URL_DYNAMODB ?? env[ENV.awsEndpointUrl]);

const limitsFromFlags = (): Partial<TenantLimits> => {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const entries: [keyof TenantLimits, number | undefined][] = [
    ['requestsPerSecond', num(flags.rps)],
    ['burst', num(flags.burst)],
    ['maxQueuedTasks', num(flags['max-queued'])],
    ['maxRunningTasks', num(flags['max-running'])],
    ['maxLiveSessions', num(flags['max-sessions'])],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
};

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

const clients = createAwsClients({ region: env[ENV.awsRegion], endpoints: { dynamodb: endpoint } });
const deps: TenantAdminDeps = {
  tenants: new DynamoDbTenantStore(clients.dynamo, table as string),
  clock: systemClock,
  random: randomBytes,
};

const [group, action, first, second] = positionals;
const need = (value: string | undefined, what: string): string => value ?? fail(`Missing ${what}.`);

try {
  switch (`${group} ${action}`) {
    case 'tenant create':
    case 'tenant limits':
      print(
        await upsertTenant(deps, {
          tenantId: need(first, 'tenant id'),
          ...(flags.name === undefined ? {} : { name: flags.name }),
          limits: limitsFromFlags(),
        }),
      );
      break;
    case 'tenant show': {
      const tenant = await deps.tenants.getTenant(need(first, 'tenant id'));
      if (tenant === undefined) fail(`Tenant ${first} not found.`, 1);
      print(tenant);
      break;
    }
    case 'key create': {
      const { key, record } = await createApiKey(deps, {
        tenantId: need(first, 'tenant id'),
        ...(flags.name === undefined ? {} : { name: flags.name }),
      });
      print({ key, prefix: record.prefix, tenantId: record.tenantId, note: 'Shown once: store it now.' });
      break;
    }
    case 'key list':
      print((await listApiKeys(deps, need(first, 'tenant id'))).map(({ hash: _hash, ...k }) => k));
      break;
    case 'key revoke':
      await revokeApiKey(deps, { tenantId: need(first, 'tenant id'), prefix: need(second, 'key prefix') });
      print({ revoked: second });
      break;
    case 'key rotate': {
      const { key, record } = await rotateApiKey(deps, {
        tenantId: need(first, 'tenant id'),
        prefix: need(second, 'key prefix'),
      });
      print({ key, prefix: record.prefix, revoked: second, note: 'Shown once: store it now.' });
      break;
    }
    case 'webhook add':
      print(
        await addEndpoint(
          {
            ...deps,
            checkDestination: (url) =>
              checkDestination(url, {
                allow: parseEgressAllowList(env[ENV.egressAllow]),
                resolve: systemDnsResolver,
              }),
          },
          {
            tenantId: need(first, 'tenant id'),
            url: need(second, 'endpoint URL'),
            ...(flags.events === undefined ? {} : { events: flags.events.split(',').map((e) => e.trim()) }),
          },
        ),
      );
      break;
    case 'webhook list': {
      const tenant = await deps.tenants.getTenant(need(first, 'tenant id'));
      if (tenant === undefined) fail(`Tenant ${first} not found.`, 1);
      print({
        endpoints: await listEndpoints(deps, need(first, 'tenant id')),
        // When each secret was made and retires; the values are shown once, at rotation.
        secrets: (tenant?.webhooks?.secrets ?? []).map(({ secret, ...s }) => ({
          ...s,
          prefix: `${secret.slice(0, 10)}…`,
        })),
      });
      break;
    }
    case 'webhook remove':
      await removeEndpoint(deps, {
        tenantId: need(first, 'tenant id'),
        endpointId: need(second, 'endpoint id'),
      });
      print({ removed: second });
      break;
    case 'webhook rotate-secret': {
      const hours = flags['overlap-hours'] === undefined ? undefined : Number(flags['overlap-hours']);
      if (hours !== undefined && !(hours >= 0 && hours <= 24 * 30)) fail('--overlap-hours: must be 0 to 720');
      const { secret, signing } = await rotateSigningSecret(deps, {
        tenantId: need(first, 'tenant id'),
        ...(hours === undefined ? {} : { overlapMs: hours * 3_600_000 }),
      });
      print({
        secret: secret.secret,
        createdAt: secret.createdAt,
        signing,
        note: 'Shown once: store it now.',
      });
      break;
    }
    case 'usage verify': {
      const report = await verifyUsage(
        {
          ledger: new DynamoDbUsageLedger(clients.dynamo, table as string),
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        },
        { tenantId: first, fix: flags.fix === true },
      );
      print(report);
      if (!report.exact) process.exitCode = 1;
      break;
    }
    case 'tasks backfill-history':
      print({
        written: await new DynamoDbTaskStore(clients.dynamo, table as string).backfillHistoryKeys(),
      });
      break;
    default:
      fail(`Unknown command: ${positionals.join(' ') || '(none)'}`);
  }
} catch (error) {
  if (isBrowserfleetError(error)) fail(`${error.code}: ${error.message}`, 1);
  throw error;
} finally {
  destroyAwsClients(clients);
}
