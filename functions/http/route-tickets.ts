/** The session ticket keys of a function that declares `tickets`. */
import { createSecretsManagerClient } from '../../shared/adapters/secrets-manager-client.js';
import { createTicketKeys } from '../../shared/adapters/secrets-manager-ticket-secret.js';
import { systemClock } from '../../shared/clock.js';
import type { HttpBaseConfig, TicketSecretConfig } from '../../shared/config.js';
import type { TicketKeys } from '../../shared/session/ticket-keys.js';

export const createRouteTicketKeys = (
  config: HttpBaseConfig & { ticketSecret: TicketSecretConfig },
): TicketKeys =>
  createTicketKeys(config.ticketSecret, {
    secretsManager: () => createSecretsManagerClient(config.aws),
    clock: systemClock,
  });
