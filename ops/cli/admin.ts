/**
 * `browserfleet admin …` (and `npm run admin -- …`, the same program): the operator's
 * commands for tenants, API keys, webhooks, usage counters and task history, each a call of
 * one use case of shared/ on the admin root (./admin-root.ts, which reads the environment
 * and builds the AWS clients). The root is imported when a command runs, so `--help` and
 * the rest of the CLI start without the AWS SDK.
 *
 * Exit codes, as the rest of the CLI: 0 done; 1 `usage verify` found counters that differ;
 * 2 the command line was wrong (or names no table); 3 the platform refused (a NOT_FOUND,
 * VALIDATION_FAILED, DESTINATION_BLOCKED … of its own) or AWS could not be reached.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ENV } from '../../shared/contracts.js';
import { isBrowserfleetError } from '../../shared/errors.js';
import type { TenantLimits } from '../../shared/tenancy/tenant.js';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhooks/webhook-event.js';
import { type AdminOutput, adminOutputFor } from './admin-output.js';
import type { AdminRoot } from './admin-root.js';
import { EXIT } from './output.js';

const number = (flag: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number.`);
  return n;
};

const overlapHours = (value: string) => {
  const hours = number('--overlap-hours')(value);
  if (hours < 0 || hours > 24 * 30) throw new InvalidArgumentError('--overlap-hours must be 0 to 720.');
  return hours;
};

interface LimitFlags {
  name?: string;
  rps?: number;
  burst?: number;
  maxQueued?: number;
  maxRunning?: number;
  maxSessions?: number;
}

const limitsFrom = (flags: LimitFlags): Partial<TenantLimits> => {
  const entries: [keyof TenantLimits, number | undefined][] = [
    ['requestsPerSecond', flags.rps],
    ['burst', flags.burst],
    ['maxQueuedTasks', flags.maxQueued],
    ['maxRunningTasks', flags.maxRunning],
    ['maxLiveSessions', flags.maxSessions],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
};

const tenantInput = (tenantId: string, flags: LimitFlags) => ({
  tenantId,
  ...(flags.name === undefined ? {} : { name: flags.name }),
  limits: limitsFrom(flags),
});

const withLimitFlags = (command: Command): Command =>
  command
    .option('--name <name>', "the tenant's display name (default: its id)")
    .option('--rps <n>', 'sustained requests per second (default 10)', number('--rps'))
    .option('--burst <n>', 'requests that may arrive at once (default 20)', number('--burst'))
    .option('--max-queued <n>', 'tasks waiting to run (default 100)', number('--max-queued'))
    .option('--max-running <n>', 'tasks running at once (default 10)', number('--max-running'))
    .option('--max-sessions <n>', 'live sessions at once (default 5)', number('--max-sessions'));

/**
 * Adds `admin` and its commands to the program. `asJson` reads the program's `--json`,
 * which commander accepts anywhere on the line.
 */
export const addAdminCommands = (program: Command, asJson: () => boolean): void => {
  const admin = program
    .command('admin')
    .description("the operator's commands: tenants, API keys, webhooks, usage counters, task history")
    .option('--local', 'the local cloud `npm start` runs (else STATE_TABLE_NAME and the AWS environment)')
    .addHelpText(
      'after',
      `
Talks to the state table itself (DynamoDB), not to the API: set ${ENV.stateTable} and the AWS
environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB …), or pass --local.
Exit codes: 0 done, 1 usage verify found a difference, 2 the command line was wrong,
3 the platform refused (NOT_FOUND, VALIDATION_FAILED, DESTINATION_BLOCKED …) or AWS could not be reached.`,
    );

  /**
   * Runs one command on the admin root, loaded here so the rest of the CLI starts without the
   * AWS SDK. The platform's refusals and AWS's failures exit 3 with their code.
   */
  const run = async (command: (root: AdminRoot, out: AdminOutput) => Promise<void>): Promise<void> => {
    const { openAdmin } = await import('./admin-root.js');
    const root = openAdmin({ local: admin.opts<{ local?: boolean }>().local === true });
    const out = adminOutputFor(asJson());
    try {
      await command(root, out);
    } catch (error) {
      if (isBrowserfleetError(error)) {
        out.error(error.code, error.message);
        process.exitCode = EXIT.api;
      } else if (error instanceof Error && '$metadata' in error) {
        // An AWS SDK error (refused connection, missing table, denied call): AWS's, not ours.
        const code = (error as { code?: string }).code ?? error.name;
        out.error(code, `${root.where}: ${error.message}`);
        process.exitCode = EXIT.api;
      } else {
        throw error;
      }
    } finally {
      root.close();
    }
  };

  const tenant = admin.command('tenant').description('tenants: create, limits, show');
  withLimitFlags(
    tenant
      .command('create <tenant>')
      .description('create a tenant (or update the name and limits of one that exists)'),
  ).action((id: string, flags: LimitFlags) =>
    run(async (root, out) => out.tenant(await root.tenants.upsert(tenantInput(id, flags)))),
  );
  withLimitFlags(
    tenant
      .command('limits <tenant>')
      .description("change a tenant's limits (the flags given; the rest stay)"),
  ).action((id: string, flags: LimitFlags) =>
    run(async (root, out) => out.tenant(await root.tenants.upsert(tenantInput(id, flags)))),
  );
  tenant
    .command('show <tenant>')
    .description('a tenant: its name, limits, endpoints and secrets (by prefix)')
    .action((id: string) => run(async (root, out) => out.tenant(await root.tenants.show(id))));

  const key = admin.command('key').description("a tenant's API keys: create, list, revoke, rotate");
  key
    .command('create <tenant>')
    .description('mint a key for the tenant; it is printed once and stored only as a hash')
    .option('--name <name>', 'what the key is for (default: default)')
    .action((id: string, flags: { name?: string }) =>
      run(async (root, out) =>
        out.key(
          await root.keys.create({
            tenantId: id,
            ...(flags.name === undefined ? {} : { name: flags.name }),
          }),
        ),
      ),
    );
  key
    .command('list <tenant>')
    .description("the tenant's keys, by prefix (revoked ones too)")
    .action((id: string) => run(async (root, out) => out.keys(await root.keys.list(id))));
  key
    .command('revoke <tenant> <prefix>')
    .description('revoke a key (bf_XXXXXXXX): it authenticates no more')
    .action((id: string, prefix: string) =>
      run(async (root, out) => {
        await root.keys.revoke({ tenantId: id, prefix });
        out.line(`Revoked ${prefix} of tenant ${id}.`, { revoked: prefix });
      }),
    );
  key
    .command('rotate <tenant> <prefix>')
    .description('a new key with the same name, printed once; the old one is revoked')
    .action((id: string, prefix: string) =>
      run(async (root, out) => out.key(await root.keys.rotate({ tenantId: id, prefix }), prefix)),
    );

  const webhook = admin
    .command('webhook')
    .description("a tenant's webhooks: endpoints (add, list, remove) and the signing secret (rotate-secret)");
  webhook
    .command('add <tenant> <url>')
    .description(
      'a default endpoint, told of every task (and session) of the tenant; a tenant without a signing secret gets one, printed once',
    )
    .option(
      '--events <types>',
      `comma-separated, of ${WEBHOOK_EVENT_TYPES.join(', ')} (default: all)`,
      (value: string) => value.split(',').map((e) => e.trim()),
    )
    .action((id: string, url: string, flags: { events?: string[] }) =>
      run(async (root, out) =>
        out.endpoint(
          await root.webhooks.add({
            tenantId: id,
            url,
            ...(flags.events === undefined ? {} : { events: flags.events }),
          }),
        ),
      ),
    );
  webhook
    .command('list <tenant>')
    .description("the tenant's endpoints, and its signing secrets' prefixes and times (never their values)")
    .action((id: string) => run(async (root, out) => out.webhooks(await root.webhooks.list(id))));
  webhook
    .command('remove <tenant> <endpoint>')
    .description('remove an endpoint (ep_…); tasks and sessions created after it are not told')
    .action((id: string, endpointId: string) =>
      run(async (root, out) => {
        await root.webhooks.remove({ tenantId: id, endpointId });
        out.line(`Removed ${endpointId} of tenant ${id}.`, { removed: endpointId });
      }),
    );
  webhook
    .command('rotate-secret <tenant>')
    .description('a new whsec_ signing secret, printed once; the ones before it keep signing for the overlap')
    .option(
      '--overlap-hours <h>',
      'how long the previous secrets keep signing (0 to 720, default 24)',
      overlapHours,
    )
    .action((id: string, flags: { overlapHours?: number }) =>
      run(async (root, out) =>
        out.secret(
          await root.webhooks.rotateSecret({
            tenantId: id,
            ...(flags.overlapHours === undefined ? {} : { overlapMs: flags.overlapHours * 3_600_000 }),
          }),
        ),
      ),
    );

  admin
    .command('usage')
    .description('usage counters: verify')
    .command('verify [tenant]')
    .description(
      'recount live tasks and sessions from the rows and compare them with the usage counters (exit 1 on a difference)',
    )
    .option('--fix', 'set drifted counters to the recount (only where they did not move meanwhile)')
    .action((id: string | undefined, flags: { fix?: boolean }) =>
      run(async (root, out) => {
        const report = await root.verifyUsage({ tenantId: id, fix: flags.fix === true });
        out.usage(report);
        if (!report.exact) process.exitCode = EXIT.failed;
      }),
    );

  admin
    .command('tasks')
    .description('task rows: backfill-history')
    .command('backfill-history')
    .description(
      'once after upgrading from a release without task history: lists the tasks written before it too',
    )
    .action(() =>
      run(async (root, out) => {
        const written = await root.backfillHistory();
        out.line(`Wrote the history keys of ${written} task${written === 1 ? '' : 's'}.`, { written });
      }),
    );
};
