/**
 * The ticket secret from AWS Secrets Manager: AWSCURRENT (with its creation time, which
 * starts the previous key's window) and AWSPREVIOUS, read at run time and cached by
 * `CachedTicketKeys`. A small adapter over the SDK rather than Powertools Parameters: its
 * cache is keyed by name and transform only, so AWSCURRENT and AWSPREVIOUS of one secret
 * would share an entry, and it returns the value without the version's CreatedDate.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../clock.js';
import type { TicketSecretConfig } from '../config.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import {
  CachedTicketKeys,
  fixedTicketSecret,
  type TicketKeys,
  type TicketSecretSource,
  type TicketSecretVersions,
} from '../session/ticket-keys.js';

export class SecretsManagerTicketSecret implements TicketSecretSource {
  constructor(
    private readonly client: SecretsManagerClient,
    /** The secret's ARN (or name). */
    private readonly secretId: string,
  ) {}

  async read(): Promise<TicketSecretVersions> {
    const [current, previous] = await Promise.all([
      this.version('AWSCURRENT'),
      // No AWSPREVIOUS before the first rotation.
      this.version('AWSPREVIOUS').catch((error: unknown) => {
        if (error instanceof BrowserfleetError && error.cause instanceof ResourceNotFoundException) {
          return undefined;
        }
        throw error;
      }),
    ]);
    if (current === undefined) {
      throw new BrowserfleetError(
        ERROR_CODES.CONFIG_INVALID,
        `The ticket secret ${this.secretId} has no AWSCURRENT string value.`,
      );
    }
    return {
      current: { value: current.value, createdAtMs: current.createdAtMs },
      ...(previous === undefined ? {} : { previous: { value: previous.value } }),
    };
  }

  private async version(
    stage: 'AWSCURRENT' | 'AWSPREVIOUS',
  ): Promise<{ value: string; createdAtMs: number } | undefined> {
    try {
      const out = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: stage }),
      );
      if (out.SecretString === undefined || out.SecretString.length < 32) return undefined;
      return { value: out.SecretString, createdAtMs: out.CreatedDate?.getTime() ?? 0 };
    } catch (error) {
      throw new BrowserfleetError(
        ERROR_CODES.DEPENDENCY_UNAVAILABLE,
        `Reading the ticket secret's ${stage} version failed.`,
        { cause: error },
      );
    }
  }
}

/** Keys for a runtime that was given no ticket secret: any use is a configuration error. */
const noTicketKeys = (): TicketKeys => {
  const fail = async (): Promise<never> => {
    throw new BrowserfleetError(
      ERROR_CODES.CONFIG_INVALID,
      'This function handles session tickets but has neither SESSION_TICKET_SECRET_ID nor ' +
        'SESSION_TICKET_SECRET; give it the secret where the stack wires its functions.',
    );
  };
  return { signingKey: fail, verificationKeys: fail, refresh: fail };
};

/**
 * The composition roots' one call: the ticket keys for a runtime's config, cached. A
 * Secrets Manager client is built only when the secret lives there.
 */
export const createTicketKeys = (
  source: TicketSecretConfig | undefined,
  options: { secretsManager: () => SecretsManagerClient; clock: Clock },
): TicketKeys => {
  if (source === undefined) return noTicketKeys();
  const secret =
    source.kind === 'value'
      ? fixedTicketSecret(source.value)
      : new SecretsManagerTicketSecret(options.secretsManager(), source.secretId);
  return new CachedTicketKeys(secret, options.clock);
};
