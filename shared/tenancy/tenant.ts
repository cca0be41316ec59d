/**
 * Tenants, their API keys and their limits. Pure: key minting takes its randomness as an
 * argument, hashing is SHA-256 (a key is 190 random bits, so a fast hash is the right one:
 * there is nothing to brute-force, unlike a password).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TenantWebhooks } from '../webhooks/tenant-webhooks.js';

/** Per-tenant limits. Defaults are deliberately modest; operators raise them per tenant. */
export const tenantLimitsSchema = z.strictObject({
  /** Sustained requests per second (token bucket refill rate). */
  requestsPerSecond: z.number().positive().max(10_000).default(10),
  /** Bucket size: requests that may arrive at once. */
  burst: z.int().min(1).max(100_000).default(20),
  /** Tasks waiting to run. */
  maxQueuedTasks: z.int().min(0).max(1_000_000).default(100),
  /** Tasks running at once. */
  maxRunningTasks: z.int().min(0).max(10_000).default(10),
  /** Live browser sessions at once. */
  maxLiveSessions: z.int().min(0).max(10_000).default(5),
});
export type TenantLimits = z.output<typeof tenantLimitsSchema>;
export const DEFAULT_LIMITS: TenantLimits = tenantLimitsSchema.parse({});

/** What `GET /v1/limits` answers: the tenant's limits and what it uses of them now. */
export const limitsViewSchema = z
  .object({
    tenantId: z.string(),
    limits: tenantLimitsSchema,
    usage: z.object({ queuedTasks: z.int(), runningTasks: z.int(), liveSessions: z.int() }),
  })
  .meta({ id: 'Limits', description: "The tenant's limits and its usage of them right now." });
export type LimitsView = z.output<typeof limitsViewSchema>;

export interface Tenant {
  tenantId: string;
  name: string;
  limits: TenantLimits;
  createdAt: string;
  /** Default webhook endpoints and signing secrets (see shared/webhooks). */
  webhooks?: TenantWebhooks;
}

export const tenantIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,62}$/,
    'must be 2-63 lowercase letters, digits or dashes, starting alphanumeric',
  );

export interface ApiKeyRecord {
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  /** The public part (`bf_XXXXXXXX`), shown in listings and logs to identify the key. */
  prefix: string;
  tenantId: string;
  name: string;
  createdAt: string;
  revokedAt?: string;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX_LENGTH = 8;
const SECRET_LENGTH = 32;

const encode = (bytes: Uint8Array, length: number): string =>
  // 256 % 62 bias is < 1 % per character and the secret has 32 of them: ~190 bits remain.
  Array.from(bytes.subarray(0, length), (b) => ALPHABET[b % ALPHABET.length]).join('');

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * Mints a key `bf_<prefix>_<secret>` from `random(n)` bytes. Returns the key (to show once)
 * and the record to store.
 */
export const mintApiKey = (
  input: { tenantId: string; name: string; now: number },
  random: (n: number) => Uint8Array,
): { key: string; record: ApiKeyRecord } => {
  const prefix = `bf_${encode(random(PREFIX_LENGTH), PREFIX_LENGTH)}`;
  const key = `${prefix}_${encode(random(SECRET_LENGTH), SECRET_LENGTH)}`;
  return {
    key,
    record: {
      hash: hashApiKey(key),
      prefix,
      tenantId: input.tenantId,
      name: input.name,
      createdAt: new Date(input.now).toISOString(),
    },
  };
};

/** The record for an operator-chosen key (the local cloud's `LOCAL_API_KEY`). */
export const recordForKey = (
  key: string,
  input: { tenantId: string; name: string; now: number },
): ApiKeyRecord => ({
  hash: hashApiKey(key),
  prefix: key.startsWith('bf_') ? key.slice(0, 3 + PREFIX_LENGTH) : `${key.slice(0, 6)}…`,
  tenantId: input.tenantId,
  name: input.name,
  createdAt: new Date(input.now).toISOString(),
});

/** Port: tenants and keys in the state table. */
export interface TenantStore {
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  /** Creates or replaces the tenant row. */
  putTenant(tenant: Tenant): Promise<void>;
  getKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * The key under `hash` and the tenant `tenantId`, read together (one request where the
   * store can batch them): for a caller that already knows which tenant the key names.
   */
  getKeyAndTenant(
    hash: string,
    tenantId: string,
  ): Promise<{ key: ApiKeyRecord | undefined; tenant: Tenant | undefined }>;
  /** Stores a new key; an existing hash is left as it is (idempotent seeding). */
  putKey(record: ApiKeyRecord): Promise<void>;
  listKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; answers false if the tenant has no such key. */
  revokeKey(tenantId: string, prefix: string, at: string): Promise<boolean>;
}
