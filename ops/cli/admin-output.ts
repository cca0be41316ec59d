/**
 * What `browserfleet admin …` prints: for a person, aligned lines and tables (as the rest of
 * the CLI, ops/cli/output.ts); with `--json`, one JSON document per command, the same
 * documents the admin CLI has always printed. Errors go to stderr in both.
 */
import type { TenantView } from '../../shared/tenancy/manage-tenants.js';
import type { ApiKeyRecord } from '../../shared/tenancy/tenant.js';
import type { UsageReport } from '../../shared/tenancy/verify-usage.js';
import type { SigningSecretView } from '../../shared/webhooks/signing-secrets.js';
import type { TenantEndpoint } from '../../shared/webhooks/tenant-webhooks.js';
import { table } from './output.js';

/** Said beside every key and secret printed: nothing can show it again. */
const SHOWN_ONCE = 'Shown once: store it now.';

export interface MintedKey {
  key: string;
  record: ApiKeyRecord;
}

export interface RotatedSecret {
  secret: { secret: string; createdAt: string };
  signing: { createdAt: string; retiresAt?: string }[];
}

/** `webhook add`: the endpoint, and the tenant's first signing secret if the add made it. */
export interface AddedEndpoint {
  endpoint: TenantEndpoint;
  secret?: { secret: string; createdAt: string };
}

export interface AdminOutput {
  tenant(tenant: TenantView): void;
  /** A new key (`key create`), or the one that replaced `revoked` (`key rotate`). */
  key(minted: MintedKey, revoked?: string): void;
  keys(records: ApiKeyRecord[]): void;
  endpoint(added: AddedEndpoint): void;
  webhooks(view: { endpoints: TenantEndpoint[]; secrets: SigningSecretView[] }): void;
  secret(rotated: RotatedSecret): void;
  usage(report: UsageReport): void;
  /** A command whose whole answer is one fact (`revoked`, `removed`, `written`). */
  line(text: string, json: Record<string, unknown>): void;
  /** A refusal of the platform's (its error code), or of AWS itself. */
  error(code: string, message: string): void;
}

const json = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const say = (text: string) => process.stdout.write(`${text}\n`);

const retires = (s: { retiresAt?: string }) => s.retiresAt ?? '(current)';

export const adminOutputFor = (asJson: boolean): AdminOutput => ({
  tenant: (tenant) =>
    asJson
      ? json(tenant)
      : say(
          table([
            ['tenant', tenant.tenantId],
            ['name', tenant.name],
            ['created', tenant.createdAt],
            ['requests/s', String(tenant.limits.requestsPerSecond)],
            ['burst', String(tenant.limits.burst)],
            ['max queued', String(tenant.limits.maxQueuedTasks)],
            ['max running', String(tenant.limits.maxRunningTasks)],
            ['max sessions', String(tenant.limits.maxLiveSessions)],
            ['endpoints', String(tenant.webhooks?.endpoints.length ?? 0)],
            ['secrets', (tenant.webhooks?.secrets ?? []).map((s) => s.prefix).join(' ') || '(none)'],
          ]),
        ),
  key: ({ key, record }, revoked) => {
    if (asJson) {
      return json(
        revoked === undefined
          ? { key, prefix: record.prefix, tenantId: record.tenantId, note: SHOWN_ONCE }
          : { key, prefix: record.prefix, revoked, note: SHOWN_ONCE },
      );
    }
    say(
      table([
        ['key', key],
        ['prefix', record.prefix],
        ['tenant', record.tenantId],
        ['name', record.name],
        ...(revoked === undefined ? [] : [['revoked', revoked]]),
      ]),
    );
    say(SHOWN_ONCE);
  },
  keys: (records) => {
    // Not the hash: a listing names a key by its prefix.
    const listed = records.map(({ hash: _hash, ...k }) => k);
    if (asJson) return json(listed);
    if (listed.length === 0) return say('No keys.');
    say(
      table([
        ['PREFIX', 'NAME', 'CREATED', 'REVOKED'],
        ...listed.map((k) => [k.prefix, k.name, k.createdAt, k.revokedAt ?? '-']),
      ]),
    );
  },
  endpoint: ({ endpoint, secret }) => {
    if (asJson) {
      return json(secret === undefined ? endpoint : { ...endpoint, secret: secret.secret, note: SHOWN_ONCE });
    }
    say(
      table([
        ['id', endpoint.id],
        ['url', endpoint.url],
        ['events', endpoint.events.join(',')],
        ['created', endpoint.createdAt],
        // The tenant had no live secret: this one is its first, and signs every delivery.
        ...(secret === undefined ? [] : [['secret', secret.secret]]),
      ]),
    );
    if (secret !== undefined) say(`A new signing secret for the tenant's deliveries. ${SHOWN_ONCE}`);
  },
  webhooks: ({ endpoints, secrets }) => {
    if (asJson) return json({ endpoints, secrets });
    say(
      endpoints.length === 0
        ? 'No endpoints.'
        : table([
            ['ENDPOINT', 'URL', 'EVENTS', 'CREATED'],
            ...endpoints.map((e) => [e.id, e.url, e.events.join(','), e.createdAt]),
          ]),
    );
    say('');
    say(
      secrets.length === 0
        ? 'No signing secret: deliveries wait for one (browserfleet admin webhook rotate-secret <tenant>).'
        : table([
            ['SECRET', 'CREATED', 'RETIRES'],
            ...secrets.map((s) => [s.prefix, s.createdAt, retires(s)]),
          ]),
    );
  },
  secret: ({ secret, signing }) => {
    if (asJson) {
      return json({ secret: secret.secret, createdAt: secret.createdAt, signing, note: SHOWN_ONCE });
    }
    say(
      table([
        ['secret', secret.secret],
        ['created', secret.createdAt],
        ...signing.map((s) => ['signing', `created ${s.createdAt}, retires ${retires(s)}`]),
      ]),
    );
    say(SHOWN_ONCE);
  },
  usage: (report) => {
    if (asJson) return json(report);
    if (report.tenants.length === 0) return say('No tenant has usage counters or live rows.');
    say(
      table([
        ['TENANT', 'STATUS', 'DIFFERENCES'],
        ...report.tenants.map((t) => [
          t.tenantId,
          t.status,
          t.differences.map((d) => `${d.field} counter ${d.counter}, recount ${d.recount}`).join('; ') || '-',
        ]),
      ]),
    );
    say(report.exact ? 'Every counter equals its recount.' : 'Counters differ from their rows.');
  },
  line: (text, value) => (asJson ? json(value) : say(text)),
  error: (code, message) =>
    process.stderr.write(
      asJson ? `${JSON.stringify({ error: { code, message } })}\n` : `browserfleet: ${code}: ${message}\n`,
    ),
});
