/**
 * `admin usage verify`: are a tenant's usage counters (the `USAGE#` row its quotas are
 * checked against) equal to what its rows say — queued and running tasks, sessions that
 * hold a slot? Every status change moves the counters in the same transaction as the row,
 * so they should never drift; this is how an operator (and the chaos suite) checks it, and
 * with `fix` sets drifted counters back to the recount.
 *
 * A recount races the tenant's traffic, so a difference is believed only when it holds
 * still: the counters are read before and after the recount (a change between means the
 * tenant was busy), and a difference is looked at again after `settleMs` (the recount reads
 * an eventually consistent index) before it is reported.
 */
import type { UsageCounts, UsageLedger } from './ports.js';

export const ZERO_USAGE: UsageCounts = Object.freeze({ queuedTasks: 0, runningTasks: 0, liveSessions: 0 });

const FIELDS = [
  'queuedTasks',
  'runningTasks',
  'liveSessions',
] as const satisfies readonly (keyof UsageCounts)[];

/** What the check needs: the usage ledger (a port), and a way to wait between looks. */
export interface VerifyUsageDeps {
  ledger: UsageLedger;
  sleep: (ms: number) => Promise<void>;
}

export interface VerifyUsageInput {
  /** One tenant; every tenant when unset. */
  tenantId?: string | undefined;
  /** Set drifted counters back to the recount. */
  fix?: boolean;
  /** Looks at a tenant in doubt this many times in all (default 3). */
  passes?: number;
  /** Pause before looking again (default 1 s: well past the index's usual lag). */
  settleMs?: number;
}

export interface UsageDifference {
  field: keyof UsageCounts;
  counter: number;
  recount: number;
}

export type TenantUsageCheck = {
  tenantId: string;
  counters: UsageCounts;
  recount: UsageCounts;
  differences: UsageDifference[];
} & (
  | { status: 'exact' }
  /** The counters differ from the rows, and held still while they were counted. */
  | { status: 'mismatch' }
  /** They differed and were set to the recount. */
  | { status: 'fixed' }
  /** The tenant's counters kept moving while its rows were counted: try again when quieter. */
  | { status: 'busy' }
);

export interface UsageReport {
  tenants: TenantUsageCheck[];
  /** Every tenant's counters equal its rows (after any fix). */
  exact: boolean;
}

const same = (a: UsageCounts, b: UsageCounts) => FIELDS.every((f) => a[f] === b[f]);

const differences = (counters: UsageCounts, recount: UsageCounts): UsageDifference[] =>
  FIELDS.filter((f) => counters[f] !== recount[f]).map((field) => ({
    field,
    counter: counters[field],
    recount: recount[field],
  }));

interface Look {
  before: UsageCounts;
  after: UsageCounts;
  recount: UsageCounts;
}

/** One look at `tenantId` (or everyone): counters, recount, counters again. */
const look = async (ledger: UsageLedger, tenantId: string | undefined): Promise<Map<string, Look>> => {
  const before = await ledger.counters(tenantId);
  const recount = await ledger.recount(tenantId);
  const after = await ledger.counters(tenantId);
  const tenants = new Set([
    ...(tenantId === undefined ? [] : [tenantId]),
    ...before.keys(),
    ...recount.keys(),
    ...after.keys(),
  ]);
  return new Map(
    [...tenants].map((t) => [
      t,
      {
        before: before.get(t) ?? ZERO_USAGE,
        after: after.get(t) ?? ZERO_USAGE,
        recount: recount.get(t) ?? ZERO_USAGE,
      },
    ]),
  );
};

/** Compares each tenant's usage counters with a recount of its rows; with `fix`, mends drift. */
export const verifyUsage = async (
  deps: VerifyUsageDeps,
  input: VerifyUsageInput = {},
): Promise<UsageReport> => {
  const passes = input.passes ?? 3;
  const settleMs = input.settleMs ?? 1_000;
  const settled = new Map<string, TenantUsageCheck>();
  let looks = await look(deps.ledger, input.tenantId);
  for (let pass = 1; ; pass++) {
    const doubtful: string[] = [];
    for (const [tenantId, l] of looks) {
      const quiet = same(l.before, l.after);
      const check = {
        tenantId,
        counters: l.after,
        recount: l.recount,
        differences: differences(l.after, l.recount),
      };
      if (quiet && check.differences.length === 0) settled.set(tenantId, { ...check, status: 'exact' });
      // A difference seen once may be the index lagging: it must hold on a second look.
      else if (quiet && pass > 1) settled.set(tenantId, { ...check, status: 'mismatch' });
      else if (pass >= passes) settled.set(tenantId, { ...check, status: quiet ? 'mismatch' : 'busy' });
      else doubtful.push(tenantId);
    }
    if (doubtful.length === 0) break;
    await deps.sleep(settleMs);
    looks = new Map();
    for (const tenantId of doubtful) {
      const again = await look(deps.ledger, tenantId);
      looks.set(tenantId, again.get(tenantId) as Look);
    }
  }

  if (input.fix === true) {
    for (const check of settled.values()) {
      if (check.status !== 'mismatch') continue;
      // Only over the counters the recount was compared with: a transition since then wins.
      const fixed = await deps.ledger.correct(check.tenantId, check.counters, check.recount);
      settled.set(check.tenantId, { ...check, status: fixed ? 'fixed' : 'busy' });
    }
  }
  const tenants = [...settled.values()].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  return { tenants, exact: tenants.every((t) => t.status === 'exact' || t.status === 'fixed') };
};
