/**
 * The body of every refusal the HTTP API answers: `{ "error": { "code", "message" } }`. The
 * schema is the one description of it, for the transport's error mapping, the OpenAPI
 * document and the typed client alike.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './errors.js';

export const errorCodeSchema = z
  .enum(Object.values(ERROR_CODES) as [ErrorCode, ...ErrorCode[]])
  .meta({ id: 'ErrorCode', description: 'A stable, machine-readable error code.' });

export const errorBodySchema = z
  .object({
    error: z.object({
      code: errorCodeSchema,
      /** Names the field and the rule, e.g. `limit: must be at most 100`. */
      message: z.string().meta({ description: 'For people: names the field and the rule.' }),
      /** Extra machine-readable facts (e.g. `issues`: each field that failed validation). */
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Every 4xx and 5xx answer of the HTTP API.' });

export type ErrorBody = z.output<typeof errorBodySchema>;
