/**
 * What the health check (`GET /health`) and the pressure report (`GET /v1/pressure`) answer:
 * zod schemas with their types inferred, the one description the code, the OpenAPI document
 * and the client share. Apart from the use cases, so describing them runs nothing.
 */
import { z } from 'zod';

const dependencyHealthSchema = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number(),
  /** The error's name (never its message: the route is public). */
  error: z.string().optional(),
});
export type DependencyHealth = z.output<typeof dependencyHealthSchema>;

/** What `GET /health` answers (200 when `ok`, 503 when not). */
export const healthReportSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    dependencies: z.record(z.string(), dependencyHealthSchema),
  })
  .meta({ id: 'Health', description: 'Whether every dependency answers, each with its latency.' });
export type HealthReport = z.output<typeof healthReportSchema>;

const perTier = z.object({ fleet: z.int().min(0), lambda: z.int().min(0) });

/** What `GET /v1/pressure` answers. */
export const pressureSchema = z
  .object({
    /** Every dependency is up. */
    accepting: z.boolean(),
    running: z.int().min(0),
    queued: perTier,
    inFlight: perTier,
    at: z.string(),
  })
  .meta({ id: 'Pressure', description: 'How loaded the platform is: tasks waiting and running per tier.' });
export type Pressure = z.output<typeof pressureSchema>;
