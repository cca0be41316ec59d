/**
 * A tenant's webhook signing secrets, per the Standard Webhooks specification: `whsec_`
 * and base64 of 24 random bytes. Rotation overlaps: a rotation adds a new secret and gives
 * the ones before it a retirement time, `overlapMs` later. Until then every delivery is
 * signed with each live secret (the `webhook-signature` header lists one `v1,<sig>` per
 * secret, space-separated), so a receiver that still verifies with the old secret keeps
 * accepting deliveries while it switches; after it, only the new one signs.
 * Pure: randomness and time are arguments; signing is the `standardwebhooks` library's.
 */
import { Webhook } from 'standardwebhooks';

export interface SigningSecret {
  /** `whsec_…`: shown to the operator once, at rotation, and on `list` by its prefix only. */
  secret: string;
  createdAt: string;
  /** After this ISO-8601 time the secret no longer signs (the end of a rotation's overlap). */
  retiresAt?: string;
}

/** A secret as listings show it: its prefix and times, never its value. */
export interface SigningSecretView {
  /** The secret's first characters (`whsec_abcd…`): enough to tell which one a receiver holds. */
  prefix: string;
  createdAt: string;
  retiresAt?: string;
}

/** The value is shown once, at rotation: every other view of a secret is this one. */
export const viewOfSecret = ({ secret, ...times }: SigningSecret): SigningSecretView => ({
  ...times,
  prefix: `${secret.slice(0, 10)}…`,
});

/** Default overlap of a rotation: a day for receivers to take the new secret. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 60 * 60_000;

export const newSigningSecret = (random: (n: number) => Uint8Array): string =>
  `whsec_${Buffer.from(random(24)).toString('base64')}`;

/** The secrets that sign at `now`: not yet retired. */
export const liveSecrets = (secrets: readonly SigningSecret[], now: number): SigningSecret[] =>
  secrets.filter((s) => s.retiresAt === undefined || Date.parse(s.retiresAt) > now);

/** Whether anything would sign a delivery made at `now`. */
export const hasLiveSecret = (secrets: readonly SigningSecret[], now: number): boolean =>
  liveSecrets(secrets, now).length > 0;

/**
 * Rotates: a new secret, and every live one before it retires after `overlapMs` (one that
 * already retires sooner keeps its time); retired ones are dropped.
 */
export const rotateSecrets = (
  secrets: readonly SigningSecret[],
  input: { now: number; overlapMs: number; random: (n: number) => Uint8Array },
): { secrets: SigningSecret[]; added: SigningSecret } => {
  const retiresAt = input.now + input.overlapMs;
  const kept = liveSecrets(secrets, input.now).map((s) => ({
    ...s,
    retiresAt: new Date(
      s.retiresAt === undefined ? retiresAt : Math.min(Date.parse(s.retiresAt), retiresAt),
    ).toISOString(),
  }));
  const added: SigningSecret = {
    secret: newSigningSecret(input.random),
    createdAt: new Date(input.now).toISOString(),
  };
  return { secrets: [...kept.filter((s) => Date.parse(s.retiresAt) > input.now), added], added };
};

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** The three Standard Webhooks headers of one delivery, signed with every live secret. */
export const signWebhook = (
  secrets: readonly SigningSecret[],
  input: { id: string; now: number; body: string },
): SignedHeaders => {
  const live = liveSecrets(secrets, input.now);
  if (live.length === 0) throw new Error('no live signing secret');
  // The library signs with whole seconds; the header carries the same seconds.
  const at = new Date(Math.floor(input.now / 1000) * 1000);
  // Newest first: a receiver that checks only the first signature checks the current one.
  const signatures = [...live].reverse().map((s) => new Webhook(s.secret).sign(input.id, at, input.body));
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
};
